// canaryEngine argo-rollouts on the real API server with Argo Rollouts' own controller
// (tools/build.sh argo-rollouts), as a local process: the stack declares the Rollout and its
// AnalysisTemplates through the real Pulumi engine and kubernetes plugin, and the generated
// workflow's canary, promote and rollback jobs drive it as the deployer and the rollback identity.
// What stands in (docs/verification.md): the Services' answers to the controller's web metrics
// (test-control-plane/argo-rollouts.ts: a kube-proxy that honours the Services' selectors as the
// controller rewrites them), the exporter behind a real Prometheus, and time itself where the
// canary's lifetime would take an hour. The stand-in answers from this process, so every wait
// here is asynchronous.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation";
import { CanaryCluster } from "../../components/cluster/canary-cluster";
import { deployOperations, deployPlan, rollbackOperations } from "../../components/repository/workflows/deploy";
import { argoRolloutsCrds } from "../../components/shared/argo-rollout";
import { canaryRunAnnotation, releaseAnnotation } from "../../components/shared/cluster-operations";
import type { StackConfig } from "../../config/schema";
import type { ServiceSettings } from "../../config/settings";
import {
  installArgoRolloutsCrds,
  removeArgoRolloutsCrds,
  servesErrorsMarker,
  startArgoRolloutsController,
  startServiceStandIn,
  type ArgoRolloutsController,
  type ServiceStandIn,
} from "../../test-control-plane/argo-rollouts";
import { projectCopy, type ProjectCopy } from "../../test-control-plane/project";
import { requestCounters, startPrometheus, type PrometheusServer } from "./prometheus";
import { imageOf, newDigest, release, resumeRun, writeSmokeReport, type Deployer, type Release } from "./release";
import { adminKubeconfig, changes, clusterAccess, kubeconfigFile, serviceConfig, tierStack, toolsBin } from "./tier";

const run = promisify(execFile);
const ns = "orders-argo";
const app = "orders-api";

/** kubectl as `kubeconfig`'s identity (the admin by default) in the namespace, without blocking the stand-in. */
async function kubectl(args: string[], kubeconfig = adminKubeconfig): Promise<string> {
  return (await run(path.join(toolsBin, "kubectl"), ["--kubeconfig", kubeconfig, "--namespace", ns, ...args])).stdout;
}
/** The same, resolving to its exit and output instead of failing. */
async function tryKubectl(args: string[], kubeconfig: string): Promise<{ ok: boolean; output: string }> {
  return kubectl(args, kubeconfig).then(
    (stdout) => ({ ok: true, output: stdout }),
    (error: { stdout?: string; stderr?: string }) => ({
      ok: false,
      output: `${error.stdout ?? ""}${error.stderr ?? ""}`,
    }),
  );
}

interface Rollout {
  metadata: { annotations?: Record<string, string>; resourceVersion: string };
  spec: { template: { spec: { containers: { image: string }[] } } };
  status?: {
    phase?: string;
    message?: string;
    abort?: boolean;
    currentStepIndex?: number;
    currentPodHash?: string;
    stableRS?: string;
    pauseConditions?: { reason: string; startTime: string }[];
  };
}
const rollout = async () => JSON.parse(await kubectl(["get", "rollout", app, "--output", "json"])) as Rollout;
/** The replica count the controller gives the ReplicaSet of a pod-template hash. */
async function replicasOf(hash: string | undefined): Promise<number> {
  const sets = JSON.parse(
    await kubectl(["get", "replicasets", "--selector", `rollouts-pod-template-hash=${hash}`, "--output", "json"]),
  ) as { items: { spec: { replicas: number } }[] };
  return sets.items[0]?.spec.replicas ?? 0;
}

/** Polls every half second until `probe` holds; returns the seconds it took. */
async function waitFor(what: string, probe: () => Promise<boolean>, seconds = 90): Promise<number> {
  const start = Date.now();
  while (!(await probe().catch(() => false))) {
    if (Date.now() - start > seconds * 1000)
      throw new Error(`timed out after ${seconds} s waiting for ${what}: ${JSON.stringify((await rollout()).status)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return (Date.now() - start) / 1000;
}

const outcomes = (job: { steps: { name: string; outcome: string }[] } | undefined) =>
  Object.fromEntries((job?.steps ?? []).map((s) => [s.name, s.outcome]));
/** What the tier measured, for docs/pipeline.md's comparison of the engines. */
const measured: Record<string, number> = {};

describe("canaryEngine argo-rollouts, with Argo Rollouts' controller", () => {
  let standIn: ServiceStandIn;
  let controller: ArgoRolloutsController;
  let prometheus: PrometheusServer;
  const counters = requestCounters(app);
  let config: StackConfig;
  let declared: StackConfig;
  let stack: Stack;
  let deployer: Deployer;
  let project: ProjectCopy;
  const projectNs = "orders-argo-cli";
  const projectAccount = "210987654321";

  before(async () => {
    standIn = await startServiceStandIn();
    prometheus = await startPrometheus({
      exposition: counters.exposition,
      ready: { query: `count(rate(http_requests_total{service="${app}"}[5s]) > 0)`, value: "4" },
    });
    const { server, caData } = clusterAccess();
    const settings: ServiceSettings = {
      githubOwner: "acme",
      githubRepository: "orders-api",
      appName: app,
      namespace: ns,
      clusterAuth: "token",
      clusterEndpoint: server,
      clusterCaData: caData,
      replicas: 2,
      canaryWeight: 33,
      minReadySeconds: 0,
      canaryEngine: "argo-rollouts",
      smokeRequests: 3,
      canaryBakeSeconds: 10,
      canaryAnalysis: {
        prometheusUrl: prometheus.url,
        intervalSeconds: 10,
        failureLimit: 0,
        metrics: [
          {
            name: "error-ratio",
            query: `sum(rate(http_requests_total{service="${app}",track="$track",code="500"}[5s])) / sum(rate(http_requests_total{service="${app}",track="$track"}[5s]))`,
            max: 0.05,
          },
        ],
      },
      initialImage: "ghcr.io/acme/orders-api:1.4.2",
      smokeTestOnUp: false,
    };
    config = serviceConfig(settings);
    declared = config;
    // A cluster without the controller first (the first test), then with it.
    removeArgoRolloutsCrds();
    stack = await tierStack("argo-rollouts", () => {
      // The settings of the latest `pulumi up`: the last scenario changes the pod template.
      const config = declared;
      const cluster = new CanaryCluster(app, {
        config,
        operations: deployOperations(config),
        rollbackOperations: rollbackOperations(config),
        kubeconfig: fs.readFileSync(adminKubeconfig, "utf8"),
      });
      return Promise.resolve({ kubeconfig: cluster.kubeconfig, rollbackKubeconfig: cluster.rollbackKubeconfig });
    });
  });
  after(async () => {
    project?.pulumi(["destroy", "--yes", "--skip-preview"]);
    project?.pulumi(["stack", "rm", "--yes", "--force", "tier"]);
    await stack?.destroy().catch(() => undefined);
    await stack?.workspace.removeStack("tier", { force: true }).catch(() => undefined);
    await controller?.stop();
    await standIn?.close();
    await prometheus?.close();
  });

  test("without the controller's CRDs, `pulumi preview` of the project (the real CLI) fails before anything is created, naming them", () => {
    // The project as its users run it, in a copy of the repository, with the defaults (the smoke
    // test after `pulumi up` among them) and a namespace of its own. A failed preview stops the
    // program's process, which an inline program would share with this one.
    project = projectCopy("argo-rollouts", { CANARY_STANDIN_AWS_ACCOUNT_ID: projectAccount });
    project.ok(["stack", "init", "tier"]);
    const { server, caData } = clusterAccess();
    for (const [key, value] of Object.entries({
      githubOwner: "acme",
      githubRepository: "orders-api",
      appName: app,
      namespace: projectNs,
      clusterAuth: "token",
      clusterEndpoint: server,
      clusterCaData: caData,
      initialImage: config.initialImage,
      replicas: "2",
      canaryWeight: "33",
      minReadySeconds: "0",
      canaryEngine: "argo-rollouts",
    }))
      project.ok(["config", "set", key, value]);
    project.ok(["config", "set", "--path", "aws:allowedAccountIds[0]", projectAccount]);
    const preview = project.pulumi(["preview"]);
    assert.notEqual(preview.status, 0);
    assert.match(preview.stdout + preview.stderr, /resource 'rollouts\.argoproj\.io' does not exist/);
    assert.equal(
      spawnSync(path.join(toolsBin, "kubectl"), ["--kubeconfig", adminKubeconfig, "get", "namespace", projectNs])
        .status,
      1,
    );
  });

  test("with the controller installed, `pulumi up` declares the Rollout and waits for every replica", async () => {
    installArgoRolloutsCrds();
    controller = await startArgoRolloutsController({ httpProxy: standIn.url });
    const started = Date.now();
    assert.equal((await stack.up()).summary.result, "succeeded");
    measured.firstUpSeconds = (Date.now() - started) / 1000;
    const outputs = await stack.outputs();
    deployer = {
      mode: "token",
      kubeconfig: outputs.kubeconfig.value as string,
      rollbackKubeconfig: outputs.rollbackKubeconfig.value as string,
    };
    const r = await rollout();
    assert.equal(r.status?.phase, "Healthy");
    assert.equal(r.spec.template.spec.containers[0].image, config.initialImage);
  });

  test("with the controller installed, the project's `pulumi up` (the real CLI, the defaults) creates the Rollout, waits for it and smoke-tests it", () => {
    // The project's CLI runs block this process: nothing of the stand-in is asked meanwhile (a
    // first deploy runs no analysis).
    writeSmokeReport({ ...config, namespace: projectNs }, "pass");
    const started = Date.now();
    project.ok(["up", "--yes", "--skip-preview"]);
    measured.projectUpSeconds = (Date.now() - started) / 1000;
    const r = JSON.parse(
      spawnSync(
        path.join(toolsBin, "kubectl"),
        ["--kubeconfig", adminKubeconfig, "get", "rollout", app, "--namespace", projectNs, "--output", "json"],
        { encoding: "utf8" },
      ).stdout,
    ) as Rollout;
    assert.equal(r.status?.phase, "Healthy");
    project.ok(["preview", "--expect-no-changes"]);
    project.ok(["destroy", "--yes", "--skip-preview"]);
    project.pulumi(["stack", "rm", "--yes", "--force", "tier"]);
  });

  test("a good release walks every step, waits for its promotion, and the promotion makes it stable", async () => {
    const digest = newDigest();
    const started = Date.now();
    const done = await release(config, deployer, digest, { runNumber: 300 });
    measured.goodReleaseSeconds = (Date.now() - started) / 1000;
    assert.ok(done.canary.success, done.canary.log);
    assert.match(
      done.canary.log,
      new RegExp(`waits for its promotion at step ${deployPlan(config).argo!.rollout.approvalStep}`),
    );
    assert.ok(done.promote?.success, done.promote?.log);
    assert.equal(done.rollback?.result, "skipped");
    const r = await rollout();
    assert.equal(r.status?.phase, "Healthy");
    assert.equal(r.status?.stableRS, r.status?.currentPodHash);
    assert.equal(r.spec.template.spec.containers[0].image, imageOf(config, digest));
    assert.equal(r.metadata.annotations?.[releaseAnnotation], "300");
    // The controller's smoke test reached the canary's pods through the canary Service.
    const smoke = standIn.requests.filter((q) => q.service === `${app}-canary` && q.namespace === ns);
    assert.ok(smoke.length >= config.smokeRequests, JSON.stringify(standIn.requests.slice(-5)));
    assert.ok(
      smoke.every((q) => q.status === 200),
      JSON.stringify(smoke.filter((q) => q.status !== 200)),
    );
  });

  test("a canary that answers 500 is aborted by the controller's smoke metric and scaled to 0 with no pipeline step", async () => {
    const before = await rollout();
    // Only what the canary job's first step does, as the deployer: the run claims the Rollout, sets the image.
    const deployerKubeconfig = kubeconfigFile(deployer.kubeconfig);
    const bad = newDigest().slice(0, -servesErrorsMarker.length) + servesErrorsMarker;
    const plan = deployPlan(config).argo!;
    const setImage = plan.operations.setImage.command
      .replace(/\$\{IMAGE\}@\$\{DIGEST\}/, imageOf(config, bad))
      .replace(/^kubectl /, "");
    await run("bash", ["-c", `kubectl --kubeconfig ${deployerKubeconfig} ${setImage}`], {
      env: { ...process.env, PATH: `${toolsBin}:${process.env.PATH}` },
    });
    const seconds = await waitFor("the controller to abort", async () => (await rollout()).status?.abort === true);
    measured.smokeAbortSeconds = seconds;
    const r = await rollout();
    assert.equal(r.status?.phase, "Degraded");
    assert.match(r.status?.message ?? "", /smoke-1-healthz/);
    assert.equal(r.status?.stableRS, before.status?.stableRS, "stable keeps its ReplicaSet");
    measured.smokeScaledDownSeconds =
      seconds +
      (await waitFor("the canary to be scaled to 0", async () => (await replicasOf(r.status?.currentPodHash)) === 0));
    assert.ok(standIn.requests.some((q) => q.service === `${app}-canary` && q.status === 500));
  });

  test("the pipeline reports the controller's abort: the canary job fails on its verdict and leaves the abort as it is", async () => {
    const bad = newDigest().slice(0, -servesErrorsMarker.length) + servesErrorsMarker;
    const done = await release(config, deployer, bad);
    const steps = outcomes(done.canary);
    assert.equal(steps["Wait for the controller's verdict"], "failure", done.canary.log);
    assert.match(done.canary.log, /the controller aborted the canary/);
    assert.equal(steps["Roll the canary back"], "success");
    assert.match(done.canary.summary, /already aborted by the controller/);
    assert.equal(done.promote?.result, "skipped");
    const r = await rollout();
    assert.equal(await replicasOf(r.status?.currentPodHash), 0);
    assert.equal((await replicasOf(r.status?.stableRS)) >= config.replicas, true);
  });

  test("a canary failing its Prometheus query during the bake is aborted by the controller", async () => {
    counters.setCanaryErrorRatio(0.2);
    // The new ratio fills rate()'s 5 s window before the bake's first measurement.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    try {
      const started = Date.now();
      const done = await release(config, deployer, newDigest());
      measured.prometheusAbortSeconds = (Date.now() - started) / 1000;
      assert.equal(outcomes(done.canary)["Wait for the controller's verdict"], "failure", done.canary.log);
      const r = await rollout();
      assert.equal(r.status?.abort, true);
      assert.match(r.status?.message ?? "", /error-ratio/);
      await waitFor("the canary to be scaled to 0", async () => (await replicasOf(r.status?.currentPodHash)) === 0);
      assert.equal((await rollout()).status?.stableRS, r.status?.stableRS);
    } finally {
      counters.setCanaryErrorRatio(0.01);
      await new Promise((resolve) => setTimeout(resolve, 6000));
    }
  });

  test("a run cancelled while the controller judges the canary aborts it", async () => {
    const done = await release(config, deployer, newDigest(), {
      cancelDuring: { job: "canary", step: "Wait for the controller's verdict", afterSeconds: 1 },
    });
    assert.equal(done.canary.result, "cancelled");
    assert.equal(outcomes(done.canary)["Roll the canary back"], "success", done.canary.log);
    assert.match(done.canary.summary, /aborted: the controller scales the canary to 0/);
    assert.equal(done.rollback?.result, "success", done.rollback?.log);
    const r = await rollout();
    assert.equal(r.status?.abort, true);
    await waitFor("the canary to be scaled to 0", async () => (await replicasOf(r.status?.currentPodHash)) === 0);
  });

  test("a run that disappears while its canary waits for approval: the controller takes the canary out at the end of its lifetime", async () => {
    const plan = deployPlan(config).argo!;
    const waiting: Release = await release(config, deployer, newDigest(), { promote: false });
    assert.ok(waiting.canary.success, waiting.canary.log);
    let r = await rollout();
    assert.equal(r.status?.phase, "Paused", JSON.stringify(r.status));
    assert.equal(r.status?.currentStepIndex, plan.rollout.approvalStep);
    const canaryHash = r.status?.currentPodHash;
    assert.ok((await replicasOf(canaryHash)) > 0, "the canary serves while it waits");
    // No run, no pipeline step from here. The pause began canaryLifetime ago, as far as the controller knows.
    const startTime = new Date(Date.now() - (plan.rollout.approvalPauseSeconds + 1) * 1000).toISOString();
    await kubectl([
      "patch",
      "rollout",
      app,
      "--subresource=status",
      "--type=merge",
      `--patch=${JSON.stringify({ status: { pauseConditions: [{ ...r.status.pauseConditions![0], startTime }] } })}`,
    ]);
    measured.expirySeconds = await waitFor(
      "the controller to take the canary's weight to 0",
      async () => (await replicasOf(canaryHash)) === 0,
    );
    // Then it rests at the last pause (Progressing while the canary's pods go).
    await waitFor("the Rollout to rest at its last step", async () => {
      r = await rollout();
      return r.status?.currentStepIndex === plan.rollout.expiredStep && r.status.phase === "Paused";
    });
    assert.equal(r.status?.abort, undefined);
    // An approval that comes now is refused: the canary no longer waits for it.
    const late = await resumeRun(config, deployer, waiting);
    assert.equal(outcomes(late.promote)["Promote the canary"], "failure", late.promote?.log);
    assert.match(late.promote?.log ?? "", /does not wait for its promotion/);
    assert.equal((await rollout()).status?.stableRS, r.status?.stableRS, "stable unchanged");
  });

  test("a re-run of an old run's promote cannot promote a newer run's canary", async () => {
    // Right after the last scenario's abort: the controller's first status of the new spec may still say aborted.
    const older = await release(config, deployer, newDigest(), { promote: false });
    assert.ok(older.canary.success, older.canary.log);
    const newer = await release(config, deployer, newDigest(), { promote: false });
    assert.ok(newer.canary.success, newer.canary.log);
    const rerun = await resumeRun(config, deployer, older);
    assert.match(rerun.promote?.log ?? "", /not by this run/);
    const r = await rollout();
    assert.equal(r.metadata.annotations?.[canaryRunAnnotation], String(9_000_000 + newer.run.number));
    assert.equal(r.status?.phase, "Paused", "the newer canary still waits for its own promotion");
    // The old run's rollback job leaves the newer canary alone too.
    assert.match(rerun.rollback?.summary ?? "", /left to run/);
    const promoted = await resumeRun(config, deployer, newer);
    assert.ok(promoted.promote?.success, promoted.promote?.log);
  });

  test("least privilege: without any one verb of the deployer's Role a release fails Forbidden; the rollback identity may abort and nothing more", async () => {
    const live = JSON.parse(await kubectl(["get", "role", `${app}-deployer`, "--output", "json"])) as {
      metadata: { labels: Record<string, string> };
      rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
    };
    assert.deepEqual(
      live.rules.map((r) => `${r.resources.join(",")}:${r.verbs.join("+")}:${r.resourceNames?.join(",")}`),
      [`rollouts:get+patch:${app}`, `rollouts/status:get+patch:${app}`],
    );
    const writeRole = async (rules: typeof live.rules) => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "role-")), "role.json");
      fs.writeFileSync(
        file,
        JSON.stringify({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "Role",
          metadata: { name: `${app}-deployer`, namespace: ns, labels: live.metadata.labels },
          rules,
        }),
      );
      await kubectl(["replace", "--filename", file]);
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    };
    const unneeded: string[] = [];
    try {
      for (const [index, rule] of live.rules.entries()) {
        for (const verb of rule.verbs) {
          await writeRole(
            live.rules
              .map((r, i) => (i === index ? { ...r, verbs: r.verbs.filter((v) => v !== verb) } : r))
              .filter((r) => r.verbs.length > 0),
          );
          const done = await release(config, deployer, newDigest(), { failOn: /forbidden/i });
          const refused = [...done.canary.steps, ...(done.promote?.steps ?? [])].some(
            (s) => s.outcome === "failure" && /forbidden/i.test(s.output),
          );
          if (!refused) unneeded.push(`${verb} on ${rule.resources.join(",")}`);
          await writeRole(live.rules);
          // Back to rest: whatever the release left, stable takes every replica again.
          const r = await rollout();
          if (r.status?.stableRS !== r.status?.currentPodHash && r.status?.abort !== true)
            await kubectl([
              "patch",
              "rollout",
              app,
              "--subresource=status",
              "--type=merge",
              '--patch={"status":{"abort":true}}',
            ]);
        }
      }
    } finally {
      await writeRole(live.rules);
    }
    assert.deepEqual(unneeded, []);

    // The API server type-checks each policy against the kinds it matches (the Rollout's CRD among them).
    for (const policy of ["deployer-pods", "deployer-releases", "rollback-aborts"]) {
      const status = JSON.parse(
        await kubectl(["get", "validatingadmissionpolicy", `${app}.${ns}.${policy}`, "--output", "jsonpath={.status}"]),
      ) as { typeChecking?: { expressionWarnings?: unknown[] } };
      assert.ok(status.typeChecking, `${policy} was type-checked`);
      assert.deepEqual(status.typeChecking.expressionWarnings ?? [], [], policy);
    }
    // What RBAC cannot say, the deployer-releases policy does: a patch may change the image only.
    const deployerKubeconfig = kubeconfigFile(deployer.kubeconfig);
    const stepsDropped = await tryKubectl(
      ["patch", "rollout", app, "--type=json", '--patch=[{"op":"remove","path":"/spec/strategy/canary/steps/1"}]'],
      deployerKubeconfig,
    );
    assert.match(stepsDropped.output, /the deployer may change the Rollout's image only/);
    const volumeAdded = await tryKubectl(
      [
        "patch",
        "rollout",
        app,
        "--type=json",
        '--patch=[{"op":"add","path":"/spec/template/spec/volumes/-","value":{"name":"token","secret":{"secretName":"orders-api-deployer-token"}}}]',
      ],
      deployerKubeconfig,
    );
    assert.match(volumeAdded.output, /the deployer may change the Rollout's image only: the pods' volumes/);

    // The rollback identity: an abort is admitted, a promotion is refused by its admission policy.
    const waiting = await release(config, deployer, newDigest(), { promote: false });
    assert.ok(waiting.canary.success, waiting.canary.log);
    const rollbacker = kubeconfigFile(deployer.rollbackKubeconfig);
    const version = (await rollout()).metadata.resourceVersion;
    const promote = await tryKubectl(
      ["patch", "rollout", app, "--subresource=status", "--type=merge", '--patch={"status":{"promoteFull":true}}'],
      rollbacker,
    );
    assert.equal(promote.ok, false);
    assert.match(promote.output, /may only abort the Rollout/);
    const image = await tryKubectl(
      ["patch", "rollout", app, "--type=merge", '--patch={"spec":{"replicas":5}}'],
      rollbacker,
    );
    assert.match(image.output, /forbidden/i);
    const abort = await tryKubectl(
      [
        "patch",
        "rollout",
        app,
        "--subresource=status",
        "--type=merge",
        `--patch={"metadata":{"resourceVersion":"${version}"},"status":{"abort":true}}`,
      ],
      rollbacker,
    );
    assert.ok(abort.ok, abort.output);
  });

  test("`pulumi up` after a release changes nothing: the Rollout's image and status stay the pipeline's and the controller's", async () => {
    const done = await release(config, deployer, newDigest(), { runNumber: 900 });
    assert.ok(done.promote?.success, done.promote?.log);
    const released = await rollout();
    if (process.env.ARGO_TIER_DEBUG) console.log((await stack.preview({ diff: true })).stdout);
    const up = await stack.up();
    // The controller's CRDs are read on every update, nothing else changes.
    assert.deepEqual(changes(up.summary.resourceChanges), { read: argoRolloutsCrds.length });
    const after = await rollout();
    assert.equal(after.spec.template.spec.containers[0].image, released.spec.template.spec.containers[0].image);
    assert.equal(after.status?.stableRS, released.status?.stableRS);
    assert.equal(after.status?.phase, "Healthy");
  });

  test("a pod-template change from `pulumi up` does not wait for a promotion: the controller judges it as a canary of the released image, which stable does not take without a release", async () => {
    const before = await rollout();
    declared = { ...config, startupSeconds: config.startupSeconds + 5 };
    const started = Date.now();
    const up = await stack.up();
    measured.templateChangeUpSeconds = (Date.now() - started) / 1000;
    assert.equal(up.summary.resourceChanges?.update, 1, JSON.stringify(up.summary.resourceChanges));
    let r = await rollout();
    assert.equal(r.spec.template.spec.containers[0].image, before.spec.template.spec.containers[0].image);
    // A canary of the new template: judged by the same analyses, then waiting at the approval pause.
    await waitFor("the changed template's canary to wait at the approval pause", async () => {
      r = await rollout();
      return (
        r.status?.currentPodHash !== before.status?.stableRS &&
        r.status?.phase === "Paused" &&
        r.status.currentStepIndex === deployPlan(config).argo!.rollout.approvalStep
      );
    });
    assert.equal(r.status?.stableRS, before.status?.stableRS, "stable keeps the template it runs");
    console.log(`argo-rollouts measured: ${JSON.stringify(measured)}`);
  });
});
