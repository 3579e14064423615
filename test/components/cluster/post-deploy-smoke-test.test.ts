// The smoke test after `pulumi up`: a local command running the pipeline's own runner, rerun when
// the workloads change, after them, against the stack's own cluster (a kubeconfig it receives as a
// secret, never the ambient context); absent when smokeTestOnUp is false.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { restingSmokeTestSpec } from "../../../components/cluster/canary-cluster";
import { smokeTestKubeconfigVariable, withKubeconfig } from "../../../components/cluster/post-deploy-smoke-test";
import { smokeTestPod, smokeTestRunner } from "../../../components/shared/smoke-test";
import { mockServiceAccountToken, secretMarker } from "../../../testing/mock-engine";
import { assertValidObject } from "../../../verify/kubernetes-schema";
import { podSpecs, renderCluster, restrictedProblems, stackConfig } from "../cluster-render";

type Kubeconfig = { clusters: { cluster: { server: string } }[]; users: { user: Record<string, unknown> }[] };
/** The kubeconfig the command receives, from its environment (a secret). */
function commandKubeconfig(inputs: Record<string, unknown>): Kubeconfig {
  const value = (inputs.environment as Record<string, Record<string, string>>)[smokeTestKubeconfigVariable];
  assert.deepEqual(Object.keys(value), [secretMarker], "the kubeconfig stays secret");
  return parse(value[secretMarker]) as Kubeconfig;
}

const commandType = "command:local:Command";

describe("smoke test on `pulumi up`", () => {
  test("runs the pipeline's runner, rerun on the workloads' declared specs, after the Deployments and Services", async () => {
    const r = await renderCluster(stackConfig("token"), { ghcrPullToken: "ghp_mockpulltoken" });
    const commands = r.ofType(commandType);
    assert.equal(commands.length, 1);
    const command = commands[0];
    const script = withKubeconfig(smokeTestRunner(restingSmokeTestSpec(r.config)));
    assert.equal(command.inputs.create, script);
    assert.equal(command.inputs.update, script);
    assert.deepEqual(command.inputs.interpreter, ["/bin/bash", "-c"]);
    const triggers = command.inputs.triggers as unknown[];
    const spec = (id: string): unknown => r.object(id).spec;
    // The specs as declared, not the objects' outputs, which a refresh fills with the release
    // (the real tier: token-mode.test.ts 4, a preview after a release proposes nothing).
    assert.deepEqual(
      triggers,
      [
        "Service.orders-dev.orders-api",
        "Service.orders-dev.orders-api-canary",
        "Deployment.orders-dev.orders-api",
        "Deployment.orders-dev.orders-api-canary",
      ].map(spec),
    );
    const urns = r.resources
      .filter((x) => x.type === "kubernetes:apps/v1:Deployment" || x.type === "kubernetes:core/v1:Service")
      .map((x) => x.urn);
    assert.equal(urns.length, 4);
    for (const urn of urns) assert.ok(command.dependencies.includes(urn), urn);
    // clusterAuth token: it runs as the deployer, whose binding it waits for, at clusterEndpoint.
    const binding = r.resources.find(
      (x) =>
        x.type === "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding" && x.name === "orders-deployer-role-binding",
    )!;
    assert.ok(command.dependencies.includes(binding.urn));
    const kubeconfig = commandKubeconfig(command.inputs);
    assert.equal(kubeconfig.clusters[0].cluster.server, r.config.clusterEndpoint);
    assert.deepEqual(kubeconfig.users[0].user, { token: mockServiceAccountToken });
    // No other credential reaches the command: its script and triggers hold none.
    const { environment, ...rest } = command.inputs;
    const text = JSON.stringify(rest);
    assert.ok(
      environment &&
        !text.includes(secretMarker) &&
        !text.includes("ghp_mockpulltoken") &&
        !text.includes(mockServiceAccountToken),
    );
  });

  test("clusterAuth eks: it reaches the settings' cluster with the provider's kubeconfig (an aws eks get-token credential)", async () => {
    const r = await renderCluster(stackConfig("eks"));
    const kubeconfig = commandKubeconfig(r.ofType(commandType)[0].inputs);
    const provider = r.ofType("pulumi:providers:kubernetes")[0];
    assert.deepEqual(kubeconfig, parse(provider.inputs.kubeconfig as string));
    assert.match(kubeconfig.clusters[0].cluster.server, /\.eu-west-1\.eks\.amazonaws\.com$/);
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

describe("the command's script: the kubeconfig in a private file for KUBECONFIG", () => {
  const run = (script: string, kubeconfig?: string) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smoke-kubeconfig-"));
    const env = {
      PATH: process.env.PATH,
      HOME: tmp,
      TMPDIR: tmp,
      KUBECONFIG: "/the/ambient/kubeconfig",
      ...(kubeconfig !== undefined ? { [smokeTestKubeconfigVariable]: kubeconfig } : {}),
    };
    const result = spawnSync("bash", ["-c", withKubeconfig(script)], { encoding: "utf8", env });
    const left = fs.readdirSync(tmp);
    fs.rmSync(tmp, { recursive: true, force: true });
    return { ...result, left };
  };

  test("kubectl reads the given kubeconfig from a file only its owner can read, removed afterwards; the variable is unset", () => {
    const r = run(
      `stat -c %a "$KUBECONFIG"; cat "$KUBECONFIG"; echo "var=\${${smokeTestKubeconfigVariable}:-unset}"`,
      "apiVersion: v1\nkind: Config",
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "600\napiVersion: v1\nkind: Config\nvar=unset\n");
    assert.deepEqual(r.left, []);
  });

  test("the script's own EXIT trap and failure do not keep the file, and its exit status is the command's", () => {
    const r = run("trap 'echo own trap' EXIT\nfalse\necho unreachable", "apiVersion: v1");
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "own trap\n");
    assert.deepEqual(r.left, []);
  });

  test("without the kubeconfig it fails before running anything, never falling back to the ambient one", () => {
    const r = run("echo ran");
    assert.notEqual(r.status, 0);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /the kubeconfig of the cluster the settings name is missing/);
  });
});
