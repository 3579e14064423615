// One service in token mode, through the library's CanaryCluster, on the real engine and API
// server: up from empty through the kubeconfig the settings derive (whatever the machine's current
// context points at), the generated pipeline run as the deployer, least privilege proved by the
// authoriser, the release surviving `pulumi up`, the preview's read-only identity, and destroy.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { parse, stringify } from "yaml";
import { CanaryCluster, restingSmokeTestSpec } from "../../components/cluster/canary-cluster";
import { smokeTestKubeconfigVariable, withKubeconfig } from "../../components/cluster/post-deploy-smoke-test";
import { canaryRunAnnotation, clusterTargets } from "../../components/shared/cluster-operations";
import { apiResourceOf, unreadableKinds } from "../../components/shared/rbac-rules";
import { smokeTestRunner } from "../../components/shared/smoke-test";
import { deployOperations, deployWorkflow, rollbackOperations } from "../../components/repository/workflows/deploy";
import type { StackConfig } from "../../config/schema";
import type { ServiceSettings } from "../../config/settings";
import {
  adminKubectl,
  adminKubeconfig,
  changes,
  clusterAccess,
  kubeconfigFile,
  namespaceExists,
  serviceConfig,
  tierStack,
  toolsBin,
  waitUntil,
  writeProject,
} from "./tier";
import { deploymentState, imageOf, newDigest, release, writeSmokeReport, type Deployer } from "./release";
import { changeDeployment, createPod, refusedDeploymentChanges, refusedPods, releasePod, upPod } from "./pod-policy";
import { progressDeadlineSeconds, startupFailureThreshold } from "../../components/shared/rollout-timing";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import type { PolicyRule } from "../../components/shared/cluster-operations";

const { server, caData } = clusterAccess();
const baseSettings: ServiceSettings = {
  githubOwner: "acme",
  githubRepository: "orders-api",
  appName: "orders-api",
  namespace: "orders-tier",
  clusterAuth: "token",
  clusterEndpoint: server,
  clusterCaData: caData,
  // 2 stable pods and 1 canary pod: a 33% canary, small enough for quick rollouts; no
  // minReadySeconds, so that scenario 3's many releases are quick too.
  replicas: 2,
  canaryWeight: 33,
  minReadySeconds: 0,
  // No bake window here: fail-safe.test.ts releases with one; these scenarios judge other things.
  canaryBakeSeconds: 0,
  initialImage: "ghcr.io/acme/orders-api:1.4.2",
  // pulumi up runs the smoke test through the command plugin, as the deployer.
  smokeTestOnUp: true,
};

let settings = baseSettings;
let config: StackConfig;
// No kubeconfig given: the provider's is derived from the settings and the machine's kubeconfig.
const program = () => {
  config = serviceConfig(settings);
  const cluster = new CanaryCluster(config.appName, {
    config,
    operations: deployOperations(config),
    rollbackOperations: rollbackOperations(config),
    preview: true,
  });
  return Promise.resolve({
    kubeconfig: cluster.kubeconfig,
    rollbackKubeconfig: cluster.rollbackKubeconfig,
    previewKubeconfig: cluster.previewKubeconfig,
    namespace: cluster.namespaceName,
  });
};

/**
 * The machine's kubeconfig (KUBECONFIG of the program, the CLI and its plugins): its current
 * context points at a server where nothing listens, with the admin's user. The stack takes that
 * user only; its cluster is clusterEndpoint.
 */
function elsewhereKubeconfig(): string {
  const admin = parse(fs.readFileSync(adminKubeconfig, "utf8")) as { users: { user: unknown }[] };
  return kubeconfigFile(
    stringify({
      apiVersion: "v1",
      kind: "Config",
      "current-context": "elsewhere",
      clusters: [{ name: "elsewhere", cluster: { server: "https://127.0.0.1:9" } }],
      contexts: [{ name: "elsewhere", context: { cluster: "elsewhere", user: "admin" } }],
      users: [{ name: "admin", user: admin.users[0].user }],
    }),
  );
}
const ambient = elsewhereKubeconfig();
/** Runs the program with this machine kubeconfig (the inline program runs in this process). */
function machineKubeconfig(file: string, stack: Stack): void {
  process.env.KUBECONFIG = file;
  stack.workspace.envVars.KUBECONFIG = file;
}

const ns = baseSettings.namespace!;
const get = (args: string[]) =>
  JSON.parse(adminKubectl([...args, "--namespace", ns, "--output", "json"])) as Record<string, unknown>;

/** The names of the pods behind a Service, from its EndpointSlices. */
function endpointPods(service: string): string[] {
  const slices = get(["get", "endpointslices", "--selector", `kubernetes.io/service-name=${service}`]) as {
    items: { endpoints?: { targetRef?: { name: string }; conditions?: { ready?: boolean } }[] }[];
  };
  return slices.items
    .flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready).map((e) => e.targetRef!.name))
    .sort();
}
const podsOf = (track: string) =>
  (
    get(["get", "pods", "--selector", `app=orders-api,track=${track}`]) as { items: { metadata: { name: string } }[] }
  ).items
    .map((p) => p.metadata.name)
    .sort();

describe("one service, token mode", () => {
  let stack: Stack;
  let deployer: Deployer;
  let released: string;

  before(async () => {
    stack = await tierStack("token", program);
    machineKubeconfig(ambient, stack);
  });
  after(async () => {
    await stack?.workspace.removeStack("tier", { force: true }).catch(() => undefined);
    delete process.env.KUBECONFIG;
  });

  test("1. up from empty, on clusterEndpoint while the current context points elsewhere: every object admitted under Pod Security restricted, both Deployments ready", async () => {
    const ambientRun = spawnSync(
      path.join(toolsBin, "kubectl"),
      ["--kubeconfig", ambient, "get", "namespaces", "--request-timeout=5s"],
      { encoding: "utf8" },
    );
    assert.match(ambientRun.stderr, /127\.0\.0\.1:9/, "the ambient context reaches no cluster");
    writeSmokeReport(serviceConfig(settings), "pass");
    const up = await stack.up();
    assert.equal(up.summary.result, "succeeded");
    const namespace = JSON.parse(adminKubectl(["get", "namespace", ns, "--output", "json"])) as {
      metadata: { labels: Record<string, string> };
    };
    assert.equal(namespace.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    // The admission controller enforces it: a privileged pod is refused in the namespace.
    assert.throws(
      () =>
        adminKubectl(["run", "privileged", "--image=busybox", "--privileged", "--dry-run=server", "--namespace", ns]),
      /violates PodSecurity "restricted/,
    );
    assert.deepEqual(deploymentState(ns, "orders-api"), {
      image: "ghcr.io/acme/orders-api:1.4.2",
      replicas: 2,
      ready: 2,
    });
    assert.equal(deploymentState(ns, "orders-api-canary").replicas, 0);
    const outputs = await stack.outputs();
    deployer = {
      mode: "token",
      kubeconfig: outputs.kubeconfig.value as string,
      rollbackKubeconfig: outputs.rollbackKubeconfig.value as string,
    };
  });

  test("1. the main Service reaches stable and canary pods, the canary Service only canary pods", () => {
    adminKubectl(["scale", "deployment/orders-api-canary", "--replicas=1", "--namespace", ns]);
    adminKubectl(["rollout", "status", "deployment/orders-api-canary", "--timeout=60s", "--namespace", ns]);
    waitUntil(
      "the EndpointSlices",
      () => endpointPods("orders-api").length === 3 && endpointPods("orders-api-canary").length === 1,
    );
    assert.deepEqual(endpointPods("orders-api"), [...podsOf("stable"), ...podsOf("canary")].sort());
    assert.deepEqual(endpointPods("orders-api-canary"), podsOf("canary"));
    // The disruption controller counts the stable pods only: a canary pod never spends the budget.
    const budget = () =>
      (
        get(["get", "poddisruptionbudget", "orders-api"]) as {
          status?: { expectedPods?: number; observedGeneration?: number };
        }
      ).status;
    waitUntil("the PodDisruptionBudget's status", () => budget()?.expectedPods !== undefined);
    assert.equal(budget()?.expectedPods, podsOf("stable").length);
    adminKubectl(["scale", "deployment/orders-api-canary", "--replicas=0", "--namespace", ns]);
  });

  test("1. live objects as declared: the startupProbe, liveness on livenessPath (default healthPath), the progress deadline, the NetworkPolicy's default", () => {
    for (const name of ["orders-api", "orders-api-canary"]) {
      const d = get(["get", "deployment", name]) as {
        spec: {
          progressDeadlineSeconds: number;
          template: {
            spec: {
              containers: Record<
                string,
                { httpGet: { path: string }; failureThreshold: number; initialDelaySeconds?: number }
              >[];
            };
          };
        };
      };
      const [container] = d.spec.template.spec.containers;
      assert.equal(container.startupProbe.httpGet.path, config.healthPath, name);
      assert.equal(container.startupProbe.failureThreshold, startupFailureThreshold(config), name);
      assert.equal(container.livenessProbe.httpGet.path, config.livenessPath, name);
      assert.equal(container.livenessProbe.initialDelaySeconds ?? 0, 0, name);
      assert.equal(d.spec.progressDeadlineSeconds, progressDeadlineSeconds(config), name);
    }
    const policy = get(["get", "networkpolicy", "orders-api"]) as { spec: { ingress: unknown[] } };
    assert.deepEqual(policy.spec.ingress, [{ ports: [{ protocol: "TCP", port: config.containerPort }] }]);
    const pdb = get(["get", "poddisruptionbudget", "orders-api"]) as {
      spec: { selector: unknown; unhealthyPodEvictionPolicy: string };
    };
    assert.deepEqual(pdb.spec.selector, { matchLabels: { app: "orders-api", track: "stable" } });
    assert.equal(pdb.spec.unhealthyPodEvictionPolicy, "AlwaysAllow");
  });

  test("1. a kubeconfigContext that the machine's kubeconfig lacks stops the program, naming the setting", async () => {
    settings = { ...baseSettings, kubeconfigContext: "nowhere" };
    // The inline program runs in this process: its failed Outputs reject here too, unhandled, as
    // they do in the language host, which then stops the program. They are the program's, not the test's.
    const runner = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", () => undefined);
    try {
      await assert.rejects(
        stack.preview(),
        /CanaryCluster [^:]+: config\.kubeconfigContext: "nowhere" is not a context of .* \(its contexts: elsewhere\)/,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      settings = baseSettings;
      process.removeAllListeners("unhandledRejection");
      for (const listener of runner) process.on("unhandledRejection", listener);
    }
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
    assert.equal(run.promote?.result, "skipped");
    assert.equal(run.rollback?.result, "success", run.rollback?.log);
    const outcome = Object.fromEntries(run.canary.steps.map((s) => [s.name, s.outcome]));
    assert.equal(outcome["Smoke test"], "failure", run.canary.log);
    assert.equal(outcome["Roll the canary back"], "success", run.canary.log);
    assert.equal(deploymentState(ns, "orders-api-canary").replicas, 0);
    assert.equal(deploymentState(ns, "orders-api").image, imageOf(config, released));
    assert.match(run.canary.summary, /Rolled back/);
  });

  test("3. least privilege: without any one verb of the Role, some step of the release fails Forbidden", async () => {
    const live = get(["get", "role", "orders-api-deployer"]) as {
      metadata: { labels: Record<string, string> };
      rules: PolicyRule[];
    };
    const role = (rules: readonly PolicyRule[]) =>
      JSON.stringify({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "orders-api-deployer", namespace: ns, labels: live.metadata.labels },
        rules,
      });
    const unneeded: string[] = [];
    try {
      for (const [index, rule] of live.rules.entries()) {
        for (const verbs of withoutEach(rule.verbs)) {
          const rules = live.rules
            .map((r, i) => (i === index ? { ...r, verbs: r.verbs.filter((v) => !verbs.includes(v)) } : r))
            .filter((r) => r.verbs.length > 0);
          adminKubectl(["replace", "--filename", "-"], role(rules));
          writeSmokeReport(config, "pass");
          // The rules of pulumi up's smoke-test pod serve its script (scenario 5), the rest the release.
          // A kubectl watch whose list is Forbidden retries until its --timeout: the first
          // Forbidden ends the step.
          const releaseRefused = async () =>
            await release(config, deployer, newDigest(), { failOn: /forbidden/i }).then((run) =>
              [...run.canary.steps, ...(run.promote?.steps ?? [])].some(
                (s) => s.outcome === "failure" && /forbidden/i.test(s.output),
              ),
            );
          // A failing release: the canary job's own rollback step retires its canary (only there).
          const rollbackRefused = async () => {
            writeSmokeReport(config, "fail");
            const run = await release(config, deployer, newDigest(), { failOn: /forbidden/i });
            writeSmokeReport(config, "pass");
            return run.canary.steps.some(
              (s) => s.name === "Roll the canary back" && s.outcome === "failure" && /forbidden/i.test(s.output),
            );
          };
          const forbidden = rule.resourceNames?.includes(clusterTargets(config).upSmokeTestPod)
            ? upSmokeTest(deployer.kubeconfig).forbidden
            : (await releaseRefused()) || (resetToRest(), await rollbackRefused());
          if (!forbidden)
            unneeded.push(`${verbs.join("+")} on ${rule.resources.join(",")} ${rule.resourceNames?.join(",") ?? ""}`);
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
      [
        "patch",
        "role",
        "orders-api-deployer",
        "--type=json",
        "--patch",
        '[{"op":"add","path":"/rules/0/verbs/-","value":"delete"}]',
      ],
    ];
    const allowed = attempts.filter((args) => {
      const withNamespace = args.includes("--namespace") ? args : [...args, "--namespace", ns];
      const run = spawnSync(path.join(toolsBin, "kubectl"), ["--kubeconfig", deployerKubeconfig, ...withNamespace], {
        encoding: "utf8",
        timeout: 20_000,
      });
      return !(run.status !== 0 && /forbidden/i.test(run.stderr));
    });
    assert.deepEqual(allowed, []);
  });

  test("3. the rollback identity, through its kubeconfig (a stack output), scales the canary to 0 with the rollback job's commands; without any one verb of its Role they fail Forbidden", async () => {
    const rollbacker = kubeconfigFile((await stack.outputs()).rollbackKubeconfig.value as string);
    // The rollback job's step as rendered, for the run whose id the canary carries.
    const script = deployWorkflow(config).workflow.jobs.rollback.steps.find(
      (s) => s.name === "Scale the canary to 0",
    )!.run!;
    for (const op of rollbackOperations(config)) assert.ok(script.includes(op.command), op.description);
    const rollBack = () => {
      adminKubectl([
        "annotate",
        "deployment/orders-api-canary",
        `${canaryRunAnnotation}=4242`,
        "--overwrite",
        "--namespace",
        ns,
      ]);
      return spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
        encoding: "utf8",
        env: {
          PATH: `${toolsBin}:/usr/bin:/bin`,
          KUBECONFIG: rollbacker,
          GITHUB_RUN_ID: "4242",
          // One attempt per read: a refusal is final.
          RETRY_ATTEMPTS: "1",
        },
        timeout: 60_000,
      });
    };
    const live = get(["get", "role", "orders-api-rollback"]) as {
      metadata: { labels: Record<string, string> };
      rules: PolicyRule[];
    };
    const role = (rules: readonly PolicyRule[]) =>
      JSON.stringify({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "orders-api-rollback", namespace: ns, labels: live.metadata.labels },
        rules,
      });
    const unneeded: string[] = [];
    try {
      adminKubectl(["scale", "deployment/orders-api-canary", "--replicas=1", "--namespace", ns]);
      const run = rollBack();
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.equal(deploymentState(ns, "orders-api-canary").replicas, 0);
      for (const [index, rule] of live.rules.entries()) {
        for (const verbs of withoutEach(rule.verbs)) {
          const rules = live.rules
            .map((r, i) => (i === index ? { ...r, verbs: r.verbs.filter((v) => !verbs.includes(v)) } : r))
            .filter((r) => r.verbs.length > 0);
          adminKubectl(["replace", "--filename", "-"], role(rules));
          adminKubectl(["scale", "deployment/orders-api-canary", "--replicas=1", "--namespace", ns]);
          const refused = rollBack();
          if (!(refused.status !== 0 && /forbidden/i.test(refused.stderr)))
            unneeded.push(`${verbs.join("+")} on ${rule.resources.join(",")} ${rule.resourceNames?.join(",") ?? ""}`);
          adminKubectl(["replace", "--filename", "-"], role(live.rules));
        }
      }
    } finally {
      adminKubectl(["replace", "--filename", "-"], role(live.rules));
      resetToRest();
    }
    assert.deepEqual(unneeded, []);
  });

  test("3. the rollback identity is refused an image, stable, pods, Secrets, deleting the canary, other namespaces and RBAC", async () => {
    const rollbacker = kubeconfigFile((await stack.outputs()).rollbackKubeconfig.value as string);
    const attempts: string[][] = [
      ["set", "image", "deployment/orders-api-canary", "orders-api=busybox", "--dry-run=server"],
      [
        "patch",
        "deployment",
        "orders-api-canary",
        "--type=json",
        "--patch",
        '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"busybox"}]',
        "--dry-run=server",
      ],
      ["scale", "deployment/orders-api", "--replicas=0"],
      ["set", "image", "deployment/orders-api", "orders-api=busybox", "--dry-run=server"],
      ["delete", "deployment", "orders-api-canary", "--dry-run=server"],
      ["run", "intruder", "--image=busybox", "--dry-run=server"],
      ["get", "pods"],
      ["get", "secrets"],
      ["get", "secret", "orders-api-rollback-token"],
      ["get", "secret", "orders-api-deployer-token"],
      ["scale", "deployment/orders-api-canary", "--replicas=0", "--namespace", "default"],
      ["get", "deployments", "--namespace", "kube-system"],
      [
        "create",
        "rolebinding",
        "intruder",
        "--role=orders-api-deployer",
        "--serviceaccount=orders-tier:orders-api-rollback",
        "--dry-run=server",
      ],
      [
        "patch",
        "role",
        "orders-api-rollback",
        "--type=json",
        "--patch",
        '[{"op":"add","path":"/rules/0/verbs/-","value":"update"}]',
      ],
    ];
    const allowed = attempts.filter((args) => {
      const withNamespace = args.includes("--namespace") ? args : [...args, "--namespace", ns];
      const run = spawnSync(
        path.join(toolsBin, "kubectl"),
        ["--kubeconfig", rollbacker, "--request-timeout=10s", ...withNamespace],
        { encoding: "utf8", timeout: 20_000 },
      );
      return !(run.status !== 0 && /forbidden/i.test(run.stderr));
    });
    assert.deepEqual(allowed, []);
    assert.deepEqual(deploymentState(ns, "orders-api").replicas, 2);
  });

  test("3. the admission policy: the deployer creates the pipeline's pods exactly as rendered, and no other pod; the admin still may", () => {
    const deployerKubeconfig = kubeconfigFile(deployer.kubeconfig);
    const created = createPod(deployerKubeconfig, ns, releasePod(config));
    assert.ok(created.ok, created.output);
    // The policy's pods are the deployer's operations': here they include pulumi up's smoke test.
    const up = createPod(deployerKubeconfig, ns, upPod(config));
    assert.ok(up.ok, up.output);
    for (const { what, pod, message } of refusedPods(config)) {
      const refused = createPod(deployerKubeconfig, ns, pod);
      assert.ok(!refused.ok, `${what}: admitted for the deployer`);
      assert.match(refused.output, /ValidatingAdmissionPolicy 'orders-api\.orders-tier\.deployer-pods'/, what);
      assert.match(refused.output, message, `${what}: ${refused.output}`);
      const admin = createPod(adminKubeconfig, ns, pod);
      assert.ok(admin.ok, `${what}, as the admin: ${admin.output}`);
    }
  });

  test("3. the release policy: the deployer changes its Deployments' images to the service's image by digest, and nothing else of their pods; the admin still may", () => {
    const deployerKubeconfig = kubeconfigFile(deployer.kubeconfig);
    for (const deployment of ["orders-api", "orders-api-canary"]) {
      const released = changeDeployment(deployerKubeconfig, ns, [
        "set",
        "image",
        `deployment/${deployment}`,
        `orders-api=${imageOf(config, newDigest())}`,
      ]);
      assert.ok(released.ok, released.output);
      for (const { what, args, message } of refusedDeploymentChanges(config, deployment)) {
        const refused = changeDeployment(deployerKubeconfig, ns, args);
        assert.ok(!refused.ok, `${deployment}, ${what}: admitted for the deployer`);
        assert.match(refused.output, /ValidatingAdmissionPolicy 'orders-api\.orders-tier\.deployer-releases'/, what);
        assert.match(refused.output, message, `${what}: ${refused.output}`);
        const admin = changeDeployment(adminKubeconfig, ns, args);
        assert.ok(admin.ok, `${deployment}, ${what}, as the admin: ${admin.output}`);
      }
    }
  });

  test("4. without the project's refresh option, an owned change sends initialImage back (pulumi-kubernetes ignoreChanges on containers[0])", async () => {
    const stableDigest = newDigest(),
      canaryDigest = newDigest();
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
    const stableDigest = newDigest(),
      canaryDigest = newDigest();
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
      const d = get(["get", "deployment", name]) as {
        spec: { template: { spec: { containers: { readinessProbe: { httpGet: { path: string } } }[] } } };
      };
      assert.equal(d.spec.template.spec.containers[0].readinessProbe.httpGet.path, "/readyz", name);
    }
    resetToRest();
  });

  test("5. the script of the smoke test after pulumi up, as the deployer through the kubeconfig it receives while KUBECONFIG points elsewhere, passes and fails with its report and leaves no kubeconfig behind", () => {
    const { run, tmp } = upSmokeTestRunner(deployer.kubeconfig);
    writeSmokeReport(config, "pass");
    const passed = run();
    assert.equal(passed.status, 0, passed.stdout + passed.stderr);
    assert.match(passed.stdout, /^RESULT pass$/m);
    writeSmokeReport(config, "fail");
    const failed = run();
    assert.notEqual(failed.status, 0);
    assert.match(failed.stdout, /^RESULT fail$/m);
    // The runner leaves its pod manifest; the kubeconfig's file is gone.
    assert.deepEqual(
      fs.readdirSync(tmp).filter((f) => fs.readFileSync(path.join(tmp, f), "utf8").includes("current-context")),
      [],
    );
  });

  test("6. the preview identity may get each of the stack's objects, by name, and nothing else; no Secret", async () => {
    const viewer = kubeconfigFile((await stack.outputs()).previewKubeconfig.value as string);
    const as = (args: string[]) =>
      spawnSync(path.join(toolsBin, "kubectl"), ["--kubeconfig", viewer, "--request-timeout=10s", ...args], {
        encoding: "utf8",
      });
    const { deployment } = (await stack.exportStack()) as {
      deployment: { resources: { type: string; inputs: { metadata?: { name: string } } }[] };
    };
    const objects = deployment.resources;
    const readable = objects.filter((o) => o.type.startsWith("kubernetes:") && !unreadableKinds.includes(o.type));
    const secrets = objects.filter((o) => o.type === "kubernetes:core/v1:Secret");
    // The deployer's and the rollback identity's token Secrets, and the preview's.
    assert.ok(readable.length >= 12 && secrets.length === 3, `${readable.length} objects, ${secrets.length} Secrets`);
    const get = (o: (typeof objects)[number]) => {
      const { group, resource } = apiResourceOf(o.type);
      return as([
        "get",
        group ? `${resource}.${group}` : resource,
        o.inputs.metadata!.name,
        "--namespace",
        ns,
        "--output",
        "name",
      ]);
    };
    assert.deepEqual(
      readable
        .map(get)
        .filter((r) => r.status !== 0)
        .map((r) => r.stderr),
      [],
    );
    assert.ok(
      secrets.map(get).every((r) => r.status !== 0 && /forbidden/i.test(r.stderr)),
      "every Secret is refused",
    );
    const refused = [
      ["get", "deployments"],
      ["get", "secrets"],
      ["get", "configmap", "kube-root-ca.crt"],
      ["get", "pods"],
      ["get", "endpoints", "orders-api"],
      ["get", "deployments", "--namespace", "kube-system"],
      ["get", "namespace", "default"],
      ["scale", "deployment/orders-api-canary", "--replicas=1"],
      ["delete", "service", "orders-api", "--dry-run=server"],
      ["create", "deployment", "intruder", "--image=busybox", "--dry-run=server"],
      ["run", "intruder", "--image=busybox", "--dry-run=server"],
      [
        "patch",
        "role",
        "orders-api-previewer",
        "--type=json",
        "--patch",
        '[{"op":"add","path":"/rules/0/verbs/-","value":"list"}]',
      ],
    ].filter((args) => {
      const run = as(args.includes("--namespace") ? args : [...args, "--namespace", ns]);
      return !(run.status !== 0 && /forbidden/i.test(run.stderr));
    });
    assert.deepEqual(refused, []);
  });

  test("6. a refreshed preview as the preview identity reads the live objects with the Secrets excluded; without the exclusion it fails Forbidden", async () => {
    const viewer = kubeconfigFile((await stack.outputs()).previewKubeconfig.value as string);
    machineKubeconfig(viewer, stack);
    try {
      const events: EngineEvent[] = [];
      const preview = await stack.preview({
        refresh: true,
        exclude: unreadableKinds.map((type) => `**${type}::**`),
        onEvent: (e) => events.push(e),
      });
      // Nothing to change: the provider's kubeconfig names no credential, so it is the same for every identity.
      assert.deepEqual(changes(preview.changeSummary), {}, preview.stdout);
      assert.deepEqual(refusals(events), []);
      await assert.rejects(
        stack.preview({ refresh: true }),
        /secrets .* is forbidden: User "system:serviceaccount:orders-tier:orders-api-previewer" cannot get resource "secrets"/,
      );
    } finally {
      machineKubeconfig(ambient, stack);
    }
  });

  test("6. least privilege: without any one name or rule of the preview's Role or ClusterRole, the refreshed preview is refused or sees an unhealthy object", async () => {
    const grants = [
      { kind: "Role", name: "orders-api-previewer", namespace: ns },
      { kind: "ClusterRole", name: "orders-api.orders-tier.previewer" },
    ].map((g) => {
      const live = get(["get", g.kind.toLowerCase(), g.name]) as {
        metadata: { labels: Record<string, string> };
        rules: PolicyRule[];
      };
      const object = (rules: readonly PolicyRule[]) =>
        JSON.stringify({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: g.kind,
          metadata: { name: g.name, ...(g.namespace ? { namespace: g.namespace } : {}), labels: live.metadata.labels },
          rules,
        });
      return { ...g, live, object };
    });
    // Each name of each rule in turn, and each rule without names.
    const without = grants.flatMap((g) =>
      g.live.rules.flatMap((rule, index) =>
        (rule.resourceNames ?? [undefined]).map((name) => ({
          g,
          what: `${g.kind} ${rule.verbs.join("+")} ${rule.resources.join(",")} ${name ?? "*"}`,
          rules: g.live.rules.flatMap((r, i) =>
            i !== index
              ? [r]
              : name === undefined || r.resourceNames!.length === 1
                ? []
                : [{ ...r, resourceNames: r.resourceNames!.filter((n) => n !== name) }],
          ),
        })),
      ),
    );
    assert.ok(
      without.some((w) => w.g.kind === "ClusterRole" && /validatingadmissionpolicies/.test(w.what)),
      "the ClusterRole's names are among them",
    );
    machineKubeconfig(kubeconfigFile((await stack.outputs()).previewKubeconfig.value as string), stack);
    const unneeded: string[] = [];
    try {
      for (const { g, what, rules } of without) {
        adminKubectl(["replace", "--filename", "-"], g.object(rules));
        const events: EngineEvent[] = [];
        const refused = await stack
          .preview({
            refresh: true,
            exclude: unreadableKinds.map((type) => `**${type}::**`),
            onEvent: (e) => events.push(e),
          })
          .then(
            () => refusals(events).length > 0,
            (error: Error) => /forbidden/i.test(error.message),
          );
        adminKubectl(["replace", "--filename", "-"], g.object(g.live.rules));
        if (!refused) unneeded.push(what);
      }
    } finally {
      for (const g of grants) adminKubectl(["replace", "--filename", "-"], g.object(g.live.rules));
      machineKubeconfig(ambient, stack);
    }
    assert.deepEqual(unneeded, []);
  });

  test("7. destroy leaves nothing of the service: the namespace and everything in it are gone", async () => {
    const destroyed = await stack.destroy();
    assert.equal(destroyed.summary.result, "succeeded");
    waitUntil("the namespace to go", () => !namespaceExists(ns), 90);
  });
});

/**
 * What the @pulumi/command resource after `pulumi up` runs, as the deployer: the stack's cluster
 * whatever KUBECONFIG says, the kubeconfig's file removed after. `timeout`: milliseconds.
 */
function upSmokeTestRunner(deployerKubeconfig: string, timeout?: number) {
  const script = withKubeconfig(smokeTestRunner(restingSmokeTestSpec(config)));
  const [home, tmp] = ["home-", "tmp-"].map((prefix) => fs.mkdtempSync(path.join(path.dirname(ambient), prefix)));
  const env = {
    PATH: `${toolsBin}:/usr/bin:/bin`,
    HOME: home,
    TMPDIR: tmp,
    KUBECONFIG: ambient,
    [smokeTestKubeconfigVariable]: deployerKubeconfig,
  };
  return {
    run: () => spawnSync("bash", ["-c", script], { encoding: "utf8", env, ...(timeout ? { timeout } : {}) }),
    tmp,
  };
}
/** The smoke test after `pulumi up`, stopped after 30 s (a wait whose watch is Forbidden retries): was it refused? */
function upSmokeTest(deployerKubeconfig: string): { forbidden: boolean } {
  const ran = upSmokeTestRunner(deployerKubeconfig, 30_000).run();
  return { forbidden: /forbidden/i.test(`${ran.stdout}${ran.stderr}`) };
}

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

/** What a preview reports of reads it was refused: Forbidden, or a refreshed object it could not judge healthy. */
function refusals(events: EngineEvent[]): string[] {
  return events.flatMap(({ diagnosticEvent: d }) =>
    d && (d.severity === "warning" || d.severity === "error") && /forbidden|unhealthy state/i.test(d.message)
      ? [d.message]
      : [],
  );
}

/** As the admin: the canary back to 0, no smoke-test pod, every rollout finished. */
function resetToRest(): void {
  adminKubectl(["scale", "deployment/orders-api-canary", "--replicas=0", "--namespace", ns]);
  adminKubectl(["delete", "pod", "orders-api-smoke-test", "--ignore-not-found", "--namespace", ns]);
  for (const name of ["orders-api", "orders-api-canary"])
    adminKubectl(["rollout", "status", `deployment/${name}`, "--timeout=120s", "--namespace", ns]);
}
