// One service in token mode, through the library's CanaryCluster, on the real engine and API
// server: up from empty, the generated pipeline run as the deployer, least privilege proved by the
// authoriser, the release surviving `pulumi up`, and destroy.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import { CanaryCluster, restingSmokeTestSpec } from "../../components/cluster/canary-cluster";
import { smokeTestRunner } from "../../components/shared/smoke-test";
import { deployOperations } from "../../components/repository/workflows/deploy";
import type { StackConfig } from "../../config/schema";
import type { ServiceSettings } from "../../config/settings";
import { adminKubectl, adminKubeconfig, changes, clusterAccess, kubeconfigFile, namespaceExists, serviceConfig, tierStack, toolsBin, waitUntil, writeProject } from "./tier";
import { deploymentState, imageOf, newDigest, release, writeSmokeReport, type Deployer } from "./release";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import type { PolicyRule } from "../../components/shared/cluster-operations";

const { server, caData } = clusterAccess();
const baseSettings: ServiceSettings = {
  githubOwner: "acme", githubRepository: "orders-api", appName: "orders-api", namespace: "orders-tier",
  clusterAuth: "token", clusterEndpoint: server, clusterCaData: caData,
  // 2 stable pods and 1 canary pod: a 33% canary, small enough for quick rollouts.
  replicas: 2, canaryWeight: 33,
  initialImage: "ghcr.io/acme/orders-api:1.4.2",
  smokeTestOnUp: false,
};

let settings = baseSettings;
let config: StackConfig;
const program = () => {
  config = serviceConfig(settings);
  const cluster = new CanaryCluster(config.appName, {
    config, operations: deployOperations(config), kubeconfig: fs.readFileSync(adminKubeconfig, "utf8"),
  });
  return Promise.resolve({ kubeconfig: cluster.kubeconfig, namespace: cluster.namespaceName });
};

const ns = baseSettings.namespace!;
const get = (args: string[]) => JSON.parse(adminKubectl([...args, "--namespace", ns, "--output", "json"])) as Record<string, unknown>;

/** The names of the pods behind a Service, from its EndpointSlices. */
function endpointPods(service: string): string[] {
  const slices = get(["get", "endpointslices", "--selector", `kubernetes.io/service-name=${service}`]) as {
    items: { endpoints?: { targetRef?: { name: string }; conditions?: { ready?: boolean } }[] }[];
  };
  return slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready).map((e) => e.targetRef!.name)).sort();
}
const podsOf = (track: string) =>
  ((get(["get", "pods", "--selector", `app=orders-api,track=${track}`]) as { items: { metadata: { name: string } }[] }).items)
    .map((p) => p.metadata.name).sort();

describe("one service, token mode", () => {
  let stack: Stack;
  let deployer: Deployer;
  let released: string;

  before(async () => {
    stack = await tierStack("token", program);
  });
  after(async () => {
    await stack?.workspace.removeStack("tier", { force: true }).catch(() => undefined);
  });

  test("1. up from empty: every object admitted under Pod Security restricted, both Deployments ready", async () => {
    const up = await stack.up();
    assert.equal(up.summary.result, "succeeded");
    const namespace = JSON.parse(adminKubectl(["get", "namespace", ns, "--output", "json"])) as { metadata: { labels: Record<string, string> } };
    assert.equal(namespace.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    // The admission controller enforces it: a privileged pod is refused in the namespace.
    assert.throws(() => adminKubectl(["run", "privileged", "--image=busybox", "--privileged", "--dry-run=server", "--namespace", ns]),
      /violates PodSecurity "restricted/);
    assert.deepEqual(deploymentState(ns, "orders-api"), { image: "ghcr.io/acme/orders-api:1.4.2", replicas: 2, ready: 2 });
    assert.equal(deploymentState(ns, "orders-api-canary").replicas, 0);
    deployer = { mode: "token", kubeconfig: (await stack.outputs()).kubeconfig.value as string };
  });

  test("1. the main Service reaches stable and canary pods, the canary Service only canary pods", () => {
    adminKubectl(["scale", "deployment/orders-api-canary", "--replicas=1", "--namespace", ns]);
    adminKubectl(["rollout", "status", "deployment/orders-api-canary", "--timeout=60s", "--namespace", ns]);
    waitUntil("the EndpointSlices", () => endpointPods("orders-api").length === 3 && endpointPods("orders-api-canary").length === 1);
    assert.deepEqual(endpointPods("orders-api"), [...podsOf("stable"), ...podsOf("canary")].sort());
    assert.deepEqual(endpointPods("orders-api-canary"), podsOf("canary"));
    adminKubectl(["scale", "deployment/orders-api-canary", "--replicas=0", "--namespace", ns]);
  });

  test("1. a second up, a preview and a refresh change nothing", async () => {
    const up = await stack.up();
    assert.deepEqual(changes(up.summary.resourceChanges), {});
    const preview = await stack.preview();
    assert.deepEqual(changes(preview.changeSummary), {});
    const refresh = await stack.refresh();
    assert.deepEqual(changes(refresh.summary.resourceChanges), {});
  });

  test("2. a good release: canary ready, smoke test passes, stable promoted to the digest, canary back to 0", async () => {
    released = newDigest();
    writeSmokeReport(config, "pass");
    const run = await release(config, deployer, released);
    assert.ok(run.canary.success, run.canary.log);
    assert.ok(run.promote?.success, run.promote?.log);
    assert.deepEqual(deploymentState(ns, "orders-api"), { image: imageOf(config, released), replicas: 2, ready: 2 });
    assert.equal(deploymentState(ns, "orders-api-canary").replicas, 0);
    assert.match(run.canary.summary, /smoke test passed/);
    assert.doesNotMatch(run.canary.summary, /Rolled back/);
    assert.equal(run.canary.steps.find((s) => s.name === "Roll the canary back")?.outcome, "skipped");
  });

  test("2. a failing release: the smoke report fails, the rollback scales the canary to 0 and the job fails", async () => {
    const rejected = newDigest();
    writeSmokeReport(config, "fail");
    const run = await release(config, deployer, rejected);
    assert.equal(run.canary.success, false);
    assert.equal(run.promote, undefined);
    const outcome = Object.fromEntries(run.canary.steps.map((s) => [s.name, s.outcome]));
    assert.equal(outcome["Smoke test"], "failure", run.canary.log);
    assert.equal(outcome["Roll the canary back"], "success", run.canary.log);
    assert.equal(deploymentState(ns, "orders-api-canary").replicas, 0);
    assert.equal(deploymentState(ns, "orders-api").image, imageOf(config, released));
    assert.match(run.canary.summary, /Rolled back/);
  });

  test("3. least privilege: without any one verb of the Role, some step of the release fails Forbidden", async () => {
    const live = get(["get", "role", "orders-api-deployer"]) as { metadata: { labels: Record<string, string> }; rules: PolicyRule[] };
    const role = (rules: readonly PolicyRule[]) => JSON.stringify({
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "orders-api-deployer", namespace: ns, labels: live.metadata.labels }, rules,
    });
    const unneeded: string[] = [];
    try {
      for (const [index, rule] of live.rules.entries()) {
        for (const verbs of withoutEach(rule.verbs)) {
          const rules = live.rules.map((r, i) => (i === index ? { ...r, verbs: r.verbs.filter((v) => !verbs.includes(v)) } : r)).filter((r) => r.verbs.length > 0);
          adminKubectl(["replace", "--filename", "-"], role(rules));
          writeSmokeReport(config, "pass");
          // A kubectl watch whose list is Forbidden retries until its --timeout: the first
          // Forbidden ends the step.
          const run = await release(config, deployer, newDigest(), { failOn: /forbidden/i });
          const steps = [...run.canary.steps, ...(run.promote?.steps ?? [])];
          if (!steps.some((s) => s.outcome === "failure" && /forbidden/i.test(s.output))) unneeded.push(`${verbs.join("+")} on ${rule.resources.join(",")} ${rule.resourceNames?.join(",") ?? ""}`);
          adminKubectl(["replace", "--filename", "-"], role(live.rules));
          resetToRest();
        }
      }
    } finally {
      adminKubectl(["replace", "--filename", "-"], role(live.rules));
    }
    assert.deepEqual(unneeded, []);
  });

  test("3. the deployer is refused Secrets, Deployment create/delete, exec/attach/port-forward, other namespaces and RBAC", () => {
    const deployerKubeconfig = kubeconfigFile(deployer.kubeconfig);
    const stablePod = podsOf("stable")[0];
    const attempts: string[][] = [
      ["get", "secrets"],
      ["get", "secret", "orders-api-deployer-token"],
      ["create", "deployment", "intruder", "--image=busybox", "--dry-run=server"],
      ["delete", "deployment", "orders-api", "--dry-run=server"],
      ["exec", stablePod, "--", "true"],
      ["attach", stablePod],
      ["port-forward", `pod/${stablePod}`, "18080:3000"],
      ["get", "pods", "--namespace", "default"],
      ["get", "deployments", "--namespace", "kube-system"],
      ["create", "role", "intruder", "--verb=get", "--resource=secrets", "--dry-run=server"],
      ["create", "rolebinding", "intruder", "--role=orders-api-deployer", "--user=mallory", "--dry-run=server"],
      ["patch", "role", "orders-api-deployer", "--type=json", "--patch", "[{\"op\":\"add\",\"path\":\"/rules/0/verbs/-\",\"value\":\"delete\"}]"],
    ];
    const allowed = attempts.filter((args) => {
      const withNamespace = args.includes("--namespace") ? args : [...args, "--namespace", ns];
      const run = spawnSync(path.join(toolsBin, "kubectl"), ["--kubeconfig", deployerKubeconfig, ...withNamespace], { encoding: "utf8", timeout: 20_000 });
      return !(run.status !== 0 && /forbidden/i.test(run.stderr));
    });
    assert.deepEqual(allowed, []);
  });

  test("4. without the project's refresh option, an owned change sends initialImage back (pulumi-kubernetes ignoreChanges on containers[0])", async () => {
    const stableDigest = newDigest(), canaryDigest = newDigest();
    writeSmokeReport(config, "pass");
    assert.ok((await release(config, deployer, stableDigest)).promote?.success);
    assert.ok((await release(config, deployer, canaryDigest, { promote: false })).canary.success);
    writeProject(stack.workspace.workDir, "tier-token", { withoutProjectOptions: true });
    try {
      settings = { ...baseSettings, healthPath: "/livez" };
      const up = await stack.up();
      assert.equal(up.summary.result, "succeeded");
      // What upstream does today: the release is reverted. When this fails, the provider finds
      // the path, and the refresh option is no longer what keeps the release.
      assert.equal(deploymentState(ns, "orders-api").image, baseSettings.initialImage);
      assert.equal(deploymentState(ns, "orders-api-canary").image, baseSettings.initialImage);
    } finally {
      writeProject(stack.workspace.workDir, "tier-token");
      resetToRest();
    }
  });

  test("4. the release survives the stack: preview shows nothing; an owned change lands and keeps both images and the canary's replicas", async () => {
    const stableDigest = newDigest(), canaryDigest = newDigest();
    writeSmokeReport(config, "pass");
    assert.ok((await release(config, deployer, stableDigest)).promote?.success);
    assert.ok((await release(config, deployer, canaryDigest, { promote: false })).canary.success);
    const preview = await stack.preview();
    assert.deepEqual(changes(preview.changeSummary), {});
    settings = { ...baseSettings, healthPath: "/readyz" };
    const up = await stack.up();
    assert.equal(up.summary.result, "succeeded");
    assert.equal(deploymentState(ns, "orders-api").image, imageOf(config, stableDigest));
    assert.equal(deploymentState(ns, "orders-api-canary").image, imageOf(config, canaryDigest));
    assert.equal(deploymentState(ns, "orders-api-canary").replicas, 1);
    for (const name of ["orders-api", "orders-api-canary"]) {
      const d = get(["get", "deployment", name]) as { spec: { template: { spec: { containers: { readinessProbe: { httpGet: { path: string } } }[] } } } };
      assert.equal(d.spec.template.spec.containers[0].readinessProbe.httpGet.path, "/readyz", name);
    }
    resetToRest();
  });

  test("5. the runner of the smoke test after pulumi up passes and fails with its report (the command plugin itself is not built here)", () => {
    // What the @pulumi/command resource runs, as whoever runs `pulumi up`: kubectl's ambient context.
    const runner = smokeTestRunner(restingSmokeTestSpec(config));
    const run = () => spawnSync("bash", ["-c", runner], { encoding: "utf8", env: { PATH: `${toolsBin}:/usr/bin:/bin`, KUBECONFIG: adminKubeconfig } });
    writeSmokeReport(config, "pass");
    const passed = run();
    assert.equal(passed.status, 0, passed.stdout + passed.stderr);
    assert.match(passed.stdout, /^RESULT pass$/m);
    writeSmokeReport(config, "fail");
    const failed = run();
    assert.notEqual(failed.status, 0);
    assert.match(failed.stdout, /^RESULT fail$/m);
  });

  test("6. destroy leaves nothing of the service: the namespace and everything in it are gone", async () => {
    const destroyed = await stack.destroy();
    assert.equal(destroyed.summary.result, "succeeded");
    waitUntil("the namespace to go", () => !namespaceExists(ns), 90);
  });
});

/**
 * The verbs to take away one at a time, with list and watch together: kubectl's waits (rollout
 * status, wait, delete) read through an informer, which lists (or, from client-go 1.35 against a
 * server with watch-list, watches from the start) and re-lists when a watch is refused, so either
 * verb alone still completes the wait, only slower and with errors. They are one need: observe.
 */
function withoutEach(verbs: readonly string[]): string[][] {
  const observe: string[] = verbs.filter((v) => v === "list" || v === "watch");
  return [...verbs.filter((v) => !observe.includes(v)).map((v) => [v]), ...(observe.length > 0 ? [observe] : [])];
}

/** As the admin: the canary back to 0, no smoke-test pod, every rollout finished. */
function resetToRest(): void {
  adminKubectl(["scale", "deployment/orders-api-canary", "--replicas=0", "--namespace", ns]);
  adminKubectl(["delete", "pod", "orders-api-smoke-test", "--ignore-not-found", "--namespace", ns]);
  for (const name of ["orders-api", "orders-api-canary"]) adminKubectl(["rollout", "status", `deployment/${name}`, "--timeout=120s", "--namespace", ns]);
}
