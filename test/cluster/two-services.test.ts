// Two services in one stack, as a platform team declares them: one shared Kubernetes provider for
// the cluster, each service in a namespace of its own with a deployer of its own.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Stack } from "@pulumi/pulumi/automation";
import { CanaryCluster } from "../../components/cluster/canary-cluster";
import { ClientSideApplyProvider } from "../../components/cluster/client-side-apply-provider";
import { deployOperations } from "../../components/repository/workflows/deploy";
import {
  adminKubeconfig,
  changes,
  clusterAccess,
  kubeconfigFile,
  namespaceExists,
  serviceConfig,
  tierStack,
  toolsBin,
  waitUntil,
} from "./tier";
import { deploymentState, writeSmokeReport } from "./release";

const { server, caData } = clusterAccess();
const services = ["billing", "shipping"].map((app) =>
  serviceConfig({
    githubOwner: "acme",
    githubRepository: app,
    appName: app,
    namespace: `${app}-tier`,
    clusterAuth: "token",
    clusterEndpoint: server,
    clusterCaData: caData,
    replicas: 2,
    canaryWeight: 33,
    canaryBakeSeconds: 0,
    initialImage: `ghcr.io/acme/${app}:1.0.0`,
    smokeTestOnUp: true,
  }),
);

const program = () => {
  const provider = new ClientSideApplyProvider("tier-cluster", {
    kubeconfig: fs.readFileSync(adminKubeconfig, "utf8"),
  });
  const kubeconfigs = services.map(
    (config) =>
      new CanaryCluster(config.appName, { config, operations: deployOperations(config), provider }).kubeconfig!,
  );
  return Promise.resolve({ kubeconfigs: pulumi.secret(pulumi.all(kubeconfigs)) });
};

describe("two services in one stack, one shared provider", () => {
  let stack: Stack;
  before(async () => {
    stack = await tierStack("two-services", program);
  });
  after(async () => {
    await stack?.workspace.removeStack("tier", { force: true }).catch(() => undefined);
  });

  test("up: both services ready, each in its namespace; a second up changes nothing", async () => {
    writeSmokeReport(services[0], "pass");
    assert.equal((await stack.up()).summary.result, "succeeded");
    for (const config of services)
      assert.equal(deploymentState(config.namespace, config.appName).ready, 2, config.appName);
    assert.deepEqual(changes((await stack.up()).summary.resourceChanges), {});
  });

  test("each deployer is refused the other service's namespace", async () => {
    const [billing] = (await stack.outputs()).kubeconfigs.value as string[];
    const file = kubeconfigFile(billing);
    const attempt = spawnSync(
      path.join(toolsBin, "kubectl"),
      [
        "--kubeconfig",
        file,
        "set",
        "image",
        "deployment/shipping",
        "shipping=ghcr.io/acme/evil:1",
        "--namespace",
        "shipping-tier",
      ],
      { encoding: "utf8" },
    );
    assert.notEqual(attempt.status, 0);
    assert.match(attempt.stderr, /forbidden/i);
    assert.equal(deploymentState("shipping-tier", "shipping").image, "ghcr.io/acme/shipping:1.0.0");
  });

  test("destroy removes both services and their namespaces", async () => {
    assert.equal((await stack.destroy()).summary.result, "succeeded");
    for (const config of services)
      waitUntil(`namespace ${config.namespace} to go`, () => !namespaceExists(config.namespace), 90);
  });
});
