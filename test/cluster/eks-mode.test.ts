// One service in eks mode, into a namespace that exists already (createNamespace false): the
// deployer is whoever is in the group the RoleBinding names, which EKS's access entry maps the
// deploy role to, and the preview reads as the previewers group its role's entry maps to. Here
// client certificates in those groups stand for the roles.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { CanaryCluster } from "../../components/cluster/canary-cluster";
import { defaultEksGroup } from "../../components/cluster/cluster-deployer";
import { defaultRollbackGroup } from "../../components/cluster/cluster-rollbacker";
import { defaultPreviewGroup } from "../../components/cluster/cluster-viewer";
import { deployOperations, rollbackOperations } from "../../components/repository/workflows/deploy";
import {
  adminKubectl,
  adminKubeconfig,
  certificateKubeconfig,
  changes,
  kubeconfigFile,
  serviceConfig,
  tierStack,
  toolsBin,
  waitUntil,
} from "./tier";
import { deploymentState, imageOf, newDigest, release, writeSmokeReport } from "./release";
import { createPod, refusedPods, releasePod, upPod } from "./pod-policy";

const ns = "payments-tier";
const config = serviceConfig({
  githubOwner: "acme",
  githubRepository: "payments",
  appName: "payments",
  namespace: ns,
  createNamespace: false,
  clusterAuth: "eks",
  eksClusterName: "tier",
  awsRegion: "eu-west-1",
  replicas: 2,
  canaryWeight: 33,
  canaryBakeSeconds: 0,
  initialImage: "ghcr.io/acme/payments:2.0.0",
  smokeTestOnUp: true,
});
const program = () => {
  const cluster = new CanaryCluster(config.appName, {
    config,
    operations: deployOperations(config),
    rollbackOperations: rollbackOperations(config),
    kubeconfig: fs.readFileSync(adminKubeconfig, "utf8"),
    preview: true,
  });
  return Promise.resolve({ group: cluster.deployerGroup });
};

/** Everything namespaced in `ns` but what Kubernetes itself puts in every namespace. */
function leftInNamespace(): string[] {
  const kinds =
    "deployments,replicasets,pods,services,endpointslices,serviceaccounts,secrets,roles,rolebindings,poddisruptionbudgets,networkpolicies,configmaps";
  return adminKubectl(["get", kinds, "--namespace", ns, "--output", "name"])
    .split("\n")
    .filter(Boolean)
    .filter((name) => name !== "serviceaccount/default" && name !== "configmap/kube-root-ca.crt");
}

describe("one service, eks mode, in an existing namespace", () => {
  let stack: Stack;
  before(async () => {
    adminKubectl(["create", "namespace", ns]);
    stack = await tierStack("eks", program);
  });
  after(async () => {
    await stack?.workspace.removeStack("tier", { force: true }).catch(() => undefined);
    adminKubectl(["delete", "namespace", ns, "--ignore-not-found", "--wait=false"]);
  });

  test("up: both Deployments ready, the smoke test after up passed; a second up changes nothing", async () => {
    writeSmokeReport(config, "pass");
    assert.equal((await stack.up()).summary.result, "succeeded");
    assert.equal(deploymentState(ns, "payments").ready, 2);
    assert.deepEqual(changes((await stack.up()).summary.resourceChanges), {});
  });

  test("a member of the deployer group releases a digest; anyone else is refused", async () => {
    const digest = newDigest();
    writeSmokeReport(config, "pass");
    const member = certificateKubeconfig("tier-deploy-role", [defaultEksGroup(config.appName)]);
    const rollbacker = certificateKubeconfig("tier-rollback-role", [defaultRollbackGroup(config.appName)]);
    const run = await release(config, { mode: "eks", kubeconfig: member, rollbackKubeconfig: rollbacker }, digest);
    assert.ok(run.canary.success, run.canary.log);
    assert.ok(run.promote?.success, run.promote?.log);
    assert.equal(deploymentState(ns, "payments").image, imageOf(config, digest));

    const stranger = kubeconfigFile(certificateKubeconfig("someone-else", ["other-team"]));
    const attempt = spawnSync(
      path.join(toolsBin, "kubectl"),
      ["--kubeconfig", stranger, "scale", "deployment/payments-canary", "--replicas=1", "--namespace", ns],
      { encoding: "utf8" },
    );
    assert.notEqual(attempt.status, 0);
    assert.match(attempt.stderr, /forbidden/i);
  });

  test("a rejected promotion: the rollback job, as a member of the rollback group, scales the canary to 0", async () => {
    writeSmokeReport(config, "pass");
    const member = certificateKubeconfig("tier-deploy-role", [defaultEksGroup(config.appName)]);
    const rollbacker = certificateKubeconfig("tier-rollback-role", [defaultRollbackGroup(config.appName)]);
    const run = await release(
      config,
      { mode: "eks", kubeconfig: member, rollbackKubeconfig: rollbacker },
      newDigest(),
      { rejectPromotion: true },
    );
    assert.ok(run.canary.success, run.canary.log);
    assert.equal(run.rollback?.result, "success", run.rollback?.log);
    assert.equal(deploymentState(ns, "payments-canary").replicas, 0);
  });

  test("the admission policy: a member of the deployer group creates the pipeline's pods exactly as rendered, and no other pod; the admin and other identities are not matched", () => {
    const member = kubeconfigFile(certificateKubeconfig("tier-deploy-role", [defaultEksGroup(config.appName)]));
    const created = createPod(member, ns, releasePod(config));
    assert.ok(created.ok, created.output);
    // The policy's pods are the deployer's operations': in eks mode pulumi up's smoke test runs
    // with the stack's own credentials, so its pod is not among them.
    assert.equal(config.smokeTestOnUp, true);
    assert.match(
      createPod(member, ns, upPod(config)).output,
      /the deployer may create only the pipeline's own pods \(\S+-smoke-test\)/,
    );
    for (const { what, pod, message } of refusedPods(config)) {
      const refused = createPod(member, ns, pod);
      assert.ok(!refused.ok && message.test(refused.output), `${what}: ${refused.output}`);
      const admin = createPod(adminKubeconfig, ns, pod);
      assert.ok(admin.ok, `${what}, as the admin: ${admin.output}`);
    }
  });

  test("a member of the previewers group may get the stack's objects by name, nothing else", () => {
    const previewer = kubeconfigFile(certificateKubeconfig("tier-preview-role", [defaultPreviewGroup(config.appName)]));
    const as = (args: string[]) =>
      spawnSync(path.join(toolsBin, "kubectl"), ["--kubeconfig", previewer, ...args, "--namespace", ns], {
        encoding: "utf8",
      });
    for (const args of [
      ["get", "deployment", "payments"],
      ["get", "service", "payments-canary"],
      ["get", "role", "payments-previewer"],
      ["get", "networkpolicy", "payments"],
    ]) {
      const run = as(args);
      assert.equal(run.status, 0, run.stderr);
    }
    for (const args of [
      ["get", "secrets"],
      ["get", "deployments"],
      ["get", "pods"],
      ["scale", "deployment/payments-canary", "--replicas=1"],
    ]) {
      assert.match(as(args).stderr, /forbidden/i, args.join(" "));
    }
  });

  test("destroy leaves nothing of the service in the namespace", async () => {
    assert.equal((await stack.destroy()).summary.result, "succeeded");
    try {
      waitUntil("the namespace to empty", () => leftInNamespace().length === 0);
    } catch {
      // The assertion lists what is left.
    }
    assert.deepEqual(leftInNamespace(), []);
  });
});
