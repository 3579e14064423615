// The generated deploy workflow run whole by a real GitHub Actions engine, nektos/act, in host mode
// against the tier's control plane: the push event's job graph from the test matrix to promote,
// outputs passed from job to job, the step summaries, a rollback dispatch, and the jobs' `if:`
// expressions after a failing canary and a failing scan. The project's own runner
// (workflow-runner.ts) keeps what act cannot show: approvals, re-runs and GitHub's cancellation.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { parse } from "yaml";
import { CanaryCluster } from "../../components/cluster/canary-cluster";
import { deployOperations, deployWorkflow, rollbackOperations } from "../../components/repository/workflows/deploy";
import { renderWorkflow } from "../../components/repository/workflows/writer";
import { actions, uses } from "../../components/repository/workflows/actions";
import { releaseAnnotation } from "../../components/shared/cluster-operations";
import type { ServiceSettings } from "../../config/settings";
import {
  adminKubeconfig,
  adminKubectl,
  clusterAccess,
  namespaceExists,
  serviceConfig,
  tierStack,
  waitUntil,
} from "./tier";
import {
  deploymentState,
  failingDigest,
  imageOf,
  newDigest,
  passingBake,
  writeBakeReport,
  writeSmokeReport,
} from "./release";
import { actBinary, actDeployRun, forAct, hangingServer, standInFiles, type ActRun, type TokenIdentities } from "./act";

const { server, caData } = clusterAccess();
const settings: ServiceSettings = {
  githubOwner: "acme",
  githubRepository: "orders-api",
  appName: "act-orders",
  namespace: "act-orders",
  clusterAuth: "token",
  clusterEndpoint: server,
  clusterCaData: caData,
  replicas: 2,
  canaryWeight: 33,
  minReadySeconds: 0,
  // A short bake window: the bake pod's report is the file kwok serves (passingBake).
  canaryBakeSeconds: 4,
  initialImage: "ghcr.io/acme/orders-api:1.4.2",
  smokeTestOnUp: false,
};
const config = serviceConfig(settings);
const ns = config.namespace;
const stable = config.appName,
  canary = `${config.appName}-canary`;
const rendered = renderWorkflow(deployWorkflow(config), { project: "canary-pipeline", stack: config.stack });
const workflow = parse(rendered) as {
  jobs: Record<
    string,
    {
      strategy?: { matrix: Record<string, unknown[]> };
      steps: { name?: string; uses?: string; run?: string; "timeout-minutes"?: number }[];
    }
  >;
};

const releaseOf = (name: string) =>
  (
    JSON.parse(adminKubectl(["get", "deployment", name, "--namespace", ns, "--output", "json"])) as {
      metadata: { annotations?: Record<string, string> };
    }
  ).metadata.annotations?.[releaseAnnotation];

/** How long each act run took, printed at the end. */
const timings: string[] = [];
function timed(what: string, run: ActRun): ActRun {
  timings.push(`${what}: ${run.seconds.toFixed(1)} s`);
  return run;
}
/** Everything about a run an assertion message needs: each job's result and act's log. */
const explain = (run: ActRun) =>
  `${Object.entries(run.jobs)
    .map(([id, runs]) => `${id}: ${runs.map((r) => r.result).join(",")}`)
    .join("; ")}\n${run.log.slice(-6000)}`;

describe("the deploy workflow under act", () => {
  let stack: Stack;
  let identities: TokenIdentities;
  /** Where the cosign stand-in keeps this file's attestations. */
  const registry = fs.mkdtempSync(path.join(os.tmpdir(), "act-attestations-"));
  let built: string;
  let released: number;
  let rollback: ActRun;

  before(async () => {
    assert.ok(fs.existsSync(actBinary), `${actBinary}: run tools/build.sh act`);
    stack = await tierStack("act", () => {
      const cluster = new CanaryCluster(config.appName, {
        config,
        operations: deployOperations(config),
        rollbackOperations: rollbackOperations(config),
        kubeconfig: fs.readFileSync(adminKubeconfig, "utf8"),
      });
      return Promise.resolve({ kubeconfig: cluster.kubeconfig, rollbackKubeconfig: cluster.rollbackKubeconfig });
    });
    assert.equal((await stack.up()).summary.result, "succeeded");
    const outputs = await stack.outputs();
    identities = {
      kubeconfig: outputs.kubeconfig.value as string,
      rollbackKubeconfig: outputs.rollbackKubeconfig.value as string,
    };
  });
  after(async () => {
    await stack?.destroy().catch(() => undefined);
    await stack?.workspace.removeStack("tier", { force: true }).catch(() => undefined);
    fs.rmSync(registry, { recursive: true, force: true });
    waitUntil("the namespace to go", () => !namespaceExists(ns), 90);
    console.log(`act runs: ${timings.join("; ")}`);
  });

  test("every action the workflow uses is pinned and stood in", () => {
    const pinned = new Set(Object.values(actions).map(uses));
    const used = Object.values(workflow.jobs).flatMap((j) => j.steps.flatMap((s) => (s.uses ? [s.uses] : [])));
    assert.ok(used.length > 0);
    for (const u of used) assert.ok(pinned.has(u), `${u} is not a pinned action`);
    for (const [u, file] of Object.entries(standInFiles())) assert.ok(fs.existsSync(file), `${u}: no ${file}`);
    // act runs the workflow as rendered, but for concurrency.queue, which its schema refuses.
    const { text, removed } = forAct(rendered);
    type Concurrent = { concurrency?: Record<string, unknown> };
    const expected = parse(rendered) as Concurrent & { jobs: Record<string, Concurrent> };
    for (const c of [expected, ...Object.values(expected.jobs)]) delete c.concurrency?.queue;
    assert.deepEqual(parse(text), expected, `removed: ${removed.join(", ")}`);
  });

  test("1. a push: the test matrix, build, scan, canary and promote run; the built digest passes job to job onto stable", async () => {
    writeSmokeReport(config, "pass");
    writeBakeReport(passingBake);
    released = 301;
    const run = timed("push", await actDeployRun(config, identities, { event: "push", runNumber: released, registry }));
    assert.equal(run.status, 0, explain(run));
    // The matrix as rendered, one job per value, each passing.
    const matrix = workflow.jobs.test.strategy!.matrix;
    assert.deepEqual(
      (run.jobs.test ?? []).map((j) => j.matrix).sort((a, b) => String(a.node).localeCompare(String(b.node))),
      matrix.node.map((node) => ({ node })),
    );
    for (const job of ["test", "build", "scan", "canary", "promote"]) assert.equal(run.result(job), "success", job);
    assert.equal(run.result("rollback"), "skipped", explain(run));

    // build's step output → its job output → canary's env (needs.build.outputs.digest) → canary's
    // job output → promote's env (needs.canary.outputs.digest) → stable.
    built = run.job("build").outputs.digest;
    assert.match(built, /^sha256:[0-9a-f]{64}$/);
    assert.equal(run.job("canary").env.DIGEST, built);
    assert.equal(run.job("canary").env.ROLLBACK, "false");
    assert.deepEqual(
      { digest: run.job("canary").outputs.digest, release: run.job("canary").outputs.release },
      { digest: built, release: String(released) },
    );
    const image = imageOf(config, built);
    assert.ok(
      run.job("promote").summary.includes(`now runs \`${image}\` (release ${released})`),
      run.job("promote").summary,
    );
    // The step summaries, job by job.
    assert.match(run.job("build").summary, new RegExp(`### Image\\n- digest: \`${built}\``));
    assert.match(run.job("scan").summary, /### Vulnerability scan\n.*: success/);
    assert.match(run.job("canary").summary, /### Smoke test[\s\S]*\| PASS \| canary \| 200 \|/);
    assert.match(run.job("canary").summary, /### Canary in tier[\s\S]*held and judged for 4 s: passed/);
    assert.match(run.job("promote").summary, /### Promoted in tier/);
    assert.equal(run.job("canary").steps["Roll the canary back"], "skipped");
    // What the cluster says, as the admin.
    assert.deepEqual(deploymentState(ns, stable), { image, replicas: 2, ready: 2 });
    assert.equal(deploymentState(ns, canary).replicas, 0);
    assert.equal(releaseOf(stable), String(released));
  });

  test("2. a rollback dispatch with a digest released before reaches stable with that digest", async () => {
    assert.ok(built, "scenario 1 released a digest");
    // A later release on stable since (set as the admin, standing for a later run).
    adminKubectl(["set", "image", `deployment/${stable}`, `${stable}=${imageOf(config, newDigest())}`, "-n", ns]);
    adminKubectl(["annotate", `deployment/${stable}`, `${releaseAnnotation}=${released + 1}`, "--overwrite", "-n", ns]);
    adminKubectl(["rollout", "status", `deployment/${stable}`, "--timeout=60s", "-n", ns]);
    writeSmokeReport(config, "pass");
    writeBakeReport(passingBake);
    rollback = timed(
      "rollback dispatch",
      await actDeployRun(config, identities, {
        event: "workflow_dispatch",
        runNumber: released + 2,
        inputs: { digest: built },
        registry,
      }),
    );
    assert.equal(rollback.status, 0, explain(rollback));
    for (const job of ["canary", "promote"]) assert.equal(rollback.result(job), "success", explain(rollback));
    assert.equal(rollback.result("rollback"), "skipped");
    const canaryJob = rollback.job("canary");
    assert.deepEqual(
      { digest: canaryJob.env.DIGEST, rollback: canaryJob.env.ROLLBACK },
      { digest: built, rollback: "true" },
    );
    // The release number comes from the attestation the promote job of scenario 1 signed.
    assert.equal(canaryJob.steps["Verify that tier released the digest"], "success", canaryJob.log);
    assert.match(
      canaryJob.summary,
      new RegExp(`explicit rollback from release ${released + 1} to release ${released}`),
    );
    assert.deepEqual(deploymentState(ns, stable), { image: imageOf(config, built), replicas: 2, ready: 2 });
    assert.equal(releaseOf(stable), String(released));
    assert.equal(deploymentState(ns, canary).replicas, 0);
  });

  test("2. a rollback dispatch builds, tests and scans nothing", () => {
    assert.ok(rollback, "the rollback dispatch ran");
    const ran = ["test", "build", "scan"]
      .map((job) => [job, rollback.result(job)] as const)
      .filter(([, result]) => result !== "skipped" && result !== "not run");
    assert.deepEqual(ran, [], explain(rollback));
  });

  test("3. a failing canary: the job rolls its canary back, promote is skipped, the rollback job runs; a hung step ends at its timeout-minutes", async () => {
    // The rollback job's kubectl step, against an API server that never answers: only the step's
    // timeout-minutes can end it (act enforces a step's, not a job's).
    const hung = workflow.jobs.rollback.steps.find(
      (s) => s["timeout-minutes"] !== undefined && /kubectl/.test(s.run ?? ""),
    );
    assert.ok(hung?.name, "the rollback job has a kubectl step with timeout-minutes");
    const limit = hung["timeout-minutes"]! * 60;
    const before = deploymentState(ns, stable).image;
    const server = await hangingServer();
    // The build "pushes" an image whose pods crash-loop on kwok's node: the canary fails without a
    // failing smoke report (its file is every tier file's, and others may be running).
    const crashing = failingDigest("crash-loop");
    let run: ActRun;
    let stillConnected: number;
    try {
      run = timed(
        "failing canary, hung rollback step",
        await actDeployRun(
          config,
          { kubeconfig: identities.kubeconfig, rollbackKubeconfig: server.kubeconfig },
          { event: "push", runNumber: released + 3, registry, builtDigest: crashing },
        ),
      );
      stillConnected = server.connections();
    } finally {
      await server.close();
    }
    assert.notEqual(run.status, 0, explain(run));
    assert.equal(run.result("canary"), "failure", explain(run));
    const canaryJob = run.job("canary");
    assert.equal(canaryJob.env.DIGEST, crashing);
    assert.deepEqual(
      {
        deploy: canaryJob.steps["Deploy the digest to the canary"],
        rollback: canaryJob.steps["Roll the canary back"],
        report: canaryJob.steps["Report the canary"],
      },
      { deploy: "failure", rollback: "success", report: "skipped" },
      canaryJob.log,
    );
    assert.match(canaryJob.log, /will not become ready: .*CrashLoopBackOff/);
    assert.match(canaryJob.summary, /scaled to 0/);
    // promote: `!cancelled() && needs.canary.result == 'success' && …`; rollback: `always() && …
    // needs.promote.result != 'success'`.
    assert.equal(run.result("promote"), "skipped", explain(run));
    const rollbackJob = run.job("rollback");
    assert.equal(rollbackJob.result, "failure", explain(run));
    assert.equal(rollbackJob.steps[hung.name], "failure", rollbackJob.log);
    const seconds = rollbackJob.stepSeconds[hung.name];
    assert.ok(seconds >= limit && seconds < limit + 20, `${hung.name}: ${seconds} s, limit ${limit} s`);
    timings.push(`the hung step ended after ${seconds.toFixed(1)} s`);
    // act ends a timed-out step's shell only (exec.CommandContext): the kubectl it started outlives
    // the run, still connected, where GitHub's runner ends the step's whole process tree.
    assert.ok(
      stillConnected > 0,
      "act v0.2.89 leaves a timed-out step's children running: docs/verification.md says so",
    );
    assert.equal(deploymentState(ns, canary).replicas, 0);
    assert.equal(deploymentState(ns, stable).image, before);
  });

  test("3. a failing scan: the canary passes, promote is skipped (needs.scan.result), the rollback job scales the canary to 0", async () => {
    const before = deploymentState(ns, stable).image;
    writeSmokeReport(config, "pass");
    writeBakeReport(passingBake);
    const run = timed(
      "failing scan",
      await actDeployRun(config, identities, { event: "push", runNumber: released + 4, registry, trivyFindings: 2 }),
    );
    assert.notEqual(run.status, 0, explain(run));
    assert.equal(run.result("scan"), "failure", explain(run));
    assert.match(run.job("scan").summary, /### Vulnerability scan\n.*: failure/);
    assert.equal(run.result("canary"), "success", explain(run));
    assert.equal(run.result("promote"), "skipped", explain(run));
    // The rollback job, as the rollback identity, is what scales this canary back.
    assert.equal(run.result("rollback"), "success", explain(run));
    assert.match(run.job("rollback").summary, /scaled to 0/);
    assert.equal(deploymentState(ns, canary).replicas, 0);
    assert.equal(deploymentState(ns, stable).image, before);
  });
});
