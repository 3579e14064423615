// The smoke test after `pulumi up`: a local command running the pipeline's own runner, rerun when
// the workloads change, after them; absent when smokeTestOnUp is false.
 
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { restingSmokeTestSpec } from "../../../components/cluster/canary-cluster";
import { smokeTestPod, smokeTestRunner } from "../../../components/shared/smoke-test";
import { secretMarker } from "../../../synth/mock-engine";
import { assertValidObject } from "../../../verify/kubernetes-schema";
import { podSpecs, renderCluster, restrictedProblems, stackConfig } from "../cluster-render";

const commandType = "command:local:Command";

describe("smoke test on `pulumi up`", () => {
  test("runs the pipeline's runner, rerun on the workloads' specs, after the Deployments and Services", async () => {
    const r = await renderCluster(stackConfig("token"), { ghcrPullToken: "ghp_mockpulltoken" });
    const commands = r.ofType(commandType);
    assert.equal(commands.length, 1);
    const command = commands[0];
    const runner = smokeTestRunner(restingSmokeTestSpec(r.config));
    assert.equal(command.inputs.create, runner);
    assert.equal(command.inputs.update, runner);
    assert.deepEqual(command.inputs.interpreter, ["/bin/bash", "-c"]);
    const triggers = command.inputs.triggers as unknown[];
    const spec = (id: string): unknown => r.object(id).spec;
    assert.deepEqual(triggers, ["Deployment.orders-dev.orders-api", "Deployment.orders-dev.orders-api-canary", "Service.orders-dev.orders-api", "Service.orders-dev.orders-api-canary"].map(spec));
    const urns = r.resources.filter((x) => x.type === "kubernetes:apps/v1:Deployment" || x.type === "kubernetes:core/v1:Service").map((x) => x.urn);
    assert.equal(urns.length, 4);
    for (const urn of urns) assert.ok(command.dependencies.includes(urn), urn);
    // No credential reaches the command, its triggers or its output.
    const text = JSON.stringify(command.inputs);
    assert.ok(!text.includes(secretMarker) && !text.includes("ghp_mockpulltoken") && !text.includes("mock-service-account-token"));
  });

  test("is not declared when smokeTestOnUp is false", async () => {
    const r = await renderCluster(stackConfig("eks", { smokeTestOnUp: false }));
    assert.deepEqual(r.ofType(commandType), []);
    assert.equal(r.cluster.smokeTest, undefined);
  });

  test("tests through the main Service: at rest the canary has no pods behind its Service", () => {
    const spec = restingSmokeTestSpec(stackConfig("eks"));
    assert.deepEqual(spec.through, ["main"]);
    assert.equal(spec.targets.mainService, "orders-api");
    assert.deepEqual(spec.paths, ["/healthz", "/v1/orders?limit=1"]);
    assert.equal(spec.maxLatencySeconds, 1.5);
    assert.ok(!smokeTestRunner(spec).includes("orders-api-canary."));
  });

  test("its pod is a valid object that meets the restricted profile", async () => {
    const pod = smokeTestPod(restingSmokeTestSpec(stackConfig("eks")));
    await assertValidObject(pod, "smoke-test pod");
    assert.deepEqual(restrictedProblems(podSpecs(pod)[0]), []);
  });
});
