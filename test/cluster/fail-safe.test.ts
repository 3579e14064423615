// The generated pipeline fails safe, on the real API server and controllers: every way a run ends
// without a promotion leaves the canary at 0, a canary that will never become ready is rolled back
// within the stated bound, a failed promotion puts stable back on the image it ran, a re-run cannot
// go back in time, and a later environment releases only what the one before it attested.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Stack } from "@pulumi/pulumi/automation";
import { CanaryCluster } from "../../components/cluster/canary-cluster";
import { deployOperations, rollbackOperations } from "../../components/repository/workflows/deploy";
import { canaryExpiryAnnotation, releaseAnnotation } from "../../components/shared/cluster-operations";
import { neverReadyBoundSeconds } from "../../components/shared/rollout-timing";
import type { StackConfig } from "../../config/schema";
import type { ServiceSettings } from "../../config/settings";
import * as fs from "node:fs";
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
  release,
  resumeRun,
  writeBakeReport,
  writeSmokeReport,
  type Deployer,
} from "./release";

const { server, caData } = clusterAccess();
const settings: ServiceSettings = {
  githubOwner: "acme",
  githubRepository: "orders-api",
  appName: "orders-api",
  namespace: "orders-fail-safe",
  clusterAuth: "token",
  clusterEndpoint: server,
  clusterCaData: caData,
  replicas: 2,
  canaryWeight: 33,
  minReadySeconds: 0,
  // A short bake window: the canary job holds and judges the canary as it would for minutes.
  canaryBakeSeconds: 4,
  initialImage: "ghcr.io/acme/orders-api:1.4.2",
  smokeTestOnUp: true,
};
const config: StackConfig = serviceConfig(settings);
/** A later environment of the same service, promoting what `config`'s environment released. */
const next: StackConfig = serviceConfig(
  { ...settings, promoteFrom: config.environment, environment: "tier-next" },
  "tier-next",
);
const ns = config.namespace;
const canary = "orders-api-canary",
  stable = "orders-api";

const annotation = (name: string, key: string) =>
  (
    JSON.parse(adminKubectl(["get", "deployment", name, "--namespace", ns, "--output", "json"])) as {
      metadata: { annotations?: Record<string, string> };
    }
  ).metadata.annotations?.[key];
const outcomes = (job: { steps: { name: string; outcome: string }[] } | undefined) =>
  Object.fromEntries((job?.steps ?? []).map((s) => [s.name, s.outcome]));

describe("the pipeline fails safe", () => {
  let stack: Stack;
  let deployer: Deployer;
  let releasedDigest: string;
  let releasedNumber: number;
  let newerDigest: string;

  before(async () => {
    stack = await tierStack("fail-safe", () => {
      const cluster = new CanaryCluster(config.appName, {
        config,
        operations: deployOperations(config),
        rollbackOperations: rollbackOperations(config),
        kubeconfig: fs.readFileSync(adminKubeconfig, "utf8"),
      });
      return Promise.resolve({ kubeconfig: cluster.kubeconfig, rollbackKubeconfig: cluster.rollbackKubeconfig });
    });
    writeSmokeReport(config, "pass");
    assert.equal((await stack.up()).summary.result, "succeeded");
    const outputs = await stack.outputs();
    // The rollback job acts as the rollback identity, which may only scale the canary.
    deployer = {
      mode: "token",
      kubeconfig: outputs.kubeconfig.value as string,
      rollbackKubeconfig: outputs.rollbackKubeconfig.value as string,
    };
    writeBakeReport(passingBake);
  });
  after(async () => {
    await stack?.destroy().catch(() => undefined);
    await stack?.workspace.removeStack("tier", { force: true }).catch(() => undefined);
    waitUntil("the namespace to go", () => !namespaceExists(ns), 90);
  });

  test("a good release is promoted, recorded on stable and attested", async () => {
    writeSmokeReport(config, "pass");
    releasedDigest = newDigest();
    releasedNumber = 200;
    const run = await release(config, deployer, releasedDigest, { runNumber: releasedNumber });
    assert.ok(run.promote?.success, run.promote?.log);
    assert.equal(run.rollback?.result, "skipped");
    assert.equal(deploymentState(ns, stable).image, imageOf(config, releasedDigest));
    assert.equal(annotation(stable, releaseAnnotation), String(releasedNumber));
    assert.ok(
      Number(annotation(canary, canaryExpiryAnnotation)) > Date.now() / 1000 + (config.canaryLifetimeMinutes - 1) * 60,
    );
    assert.match(run.promote.summary, /release attestation signed/);
  });

  for (const how of ["crash-loop", "image-pull"] as const) {
    test(`a canary whose pods ${how === "crash-loop" ? "crash-loop" : "cannot pull their image"} is scaled back to 0 within ${neverReadyBoundSeconds} s`, async () => {
      const started = Date.now();
      const run = await release(config, deployer, failingDigest(how));
      const seconds = (Date.now() - started) / 1000;
      assert.equal(run.canary.result, "failure");
      const steps = outcomes(run.canary);
      assert.equal(steps["Deploy the digest to the canary"], "failure", run.canary.log);
      assert.equal(steps["Roll the canary back"], "success");
      assert.match(
        run.canary.log,
        how === "crash-loop" ? /will not become ready: .*CrashLoopBackOff/ : /will not become ready: .*ErrImagePull/,
      );
      assert.equal(deploymentState(ns, canary).replicas, 0);
      assert.equal(deploymentState(ns, stable).image, imageOf(config, releasedDigest));
      assert.ok(seconds < neverReadyBoundSeconds, `${seconds.toFixed(1)} s`);
    });
  }

  test("a run cancelled during the smoke test rolls the canary back, in the job and in the rollback job", async () => {
    writeSmokeReport(config, "pass");
    const run = await release(config, deployer, newDigest(), {
      cancelDuring: { job: "canary", step: "Smoke test", afterSeconds: 1 },
    });
    assert.equal(run.canary.result, "cancelled");
    assert.equal(outcomes(run.canary)["Roll the canary back"], "success", run.canary.log);
    assert.equal(run.promote?.result, "skipped");
    assert.equal(run.rollback?.result, "success", run.rollback?.log);
    assert.equal(deploymentState(ns, canary).replicas, 0);
  });

  test("a failed scan: promotion is skipped and the rollback job scales the canary to 0", async () => {
    writeSmokeReport(config, "pass");
    const run = await release(config, deployer, newDigest(), { scan: "failure" });
    assert.ok(run.canary.success, run.canary.log);
    assert.equal(run.promote?.result, "skipped");
    assert.equal(run.rollback?.result, "success", run.rollback?.log);
    assert.equal(deploymentState(ns, canary).replicas, 0);
    assert.equal(deploymentState(ns, stable).image, imageOf(config, releasedDigest));
  });

  test("a rejected approval: the rollback job scales the canary to 0", async () => {
    writeSmokeReport(config, "pass");
    const run = await release(config, deployer, newDigest(), { rejectPromotion: true });
    assert.ok(run.canary.success);
    assert.equal(run.rollback?.result, "success", run.rollback?.log);
    assert.equal(deploymentState(ns, canary).replicas, 0);
  });

  test("an approval that comes after the canary expired is refused; stable is untouched and the rollback job retires the canary", async () => {
    writeSmokeReport(config, "pass");
    const waiting = await release(config, deployer, newDigest(), { promote: false });
    assert.ok(waiting.canary.success, waiting.canary.log);
    adminKubectl([
      "annotate",
      `deployment/${canary}`,
      `${canaryExpiryAnnotation}=${Math.floor(Date.now() / 1000) - 1}`,
      "--overwrite",
      "--namespace",
      ns,
    ]);
    const late = await resumeRun(config, deployer, waiting);
    assert.equal(outcomes(late.promote)["Check the canary and stable's release"], "failure", late.promote?.log);
    assert.match(late.promote!.log, /not promoted: the canary expired at/);
    assert.equal(deploymentState(ns, stable).image, imageOf(config, releasedDigest));
    assert.equal(late.rollback?.result, "success", late.rollback?.log);
    assert.equal(deploymentState(ns, canary).replicas, 0);
  });

  test("an approval that comes after the canary went bad: the promotion judges it again and refuses it", async () => {
    writeSmokeReport(config, "pass");
    const waiting = await release(config, deployer, newDigest(), { promote: false });
    assert.ok(waiting.canary.success, waiting.canary.log);
    // Hours later, unexpired, the canary now answers 500.
    writeSmokeReport(config, "fail");
    const late = await resumeRun(config, deployer, waiting);
    assert.equal(outcomes(late.promote)["Smoke-test the canary again"], "failure", late.promote?.log);
    assert.equal(outcomes(late.promote)["Promote the digest to stable"], "skipped");
    assert.equal(deploymentState(ns, stable).image, imageOf(config, releasedDigest));
    assert.equal(late.rollback?.result, "success", late.rollback?.log);
    assert.equal(deploymentState(ns, canary).replicas, 0);
    writeSmokeReport(config, "pass");
  });

  test("a promotion cancelled during stable's rollout puts stable back, and the clean-up ends well inside GitHub's 5 minutes", async () => {
    writeSmokeReport(config, "pass");
    const run = await release(config, deployer, newDigest(), {
      cancelDuring: { job: "promote", step: "Promote the digest to stable", afterSeconds: 1 },
    });
    const steps = outcomes(run.promote);
    assert.equal(steps["Promote the digest to stable"], "cancelled", run.promote?.log);
    assert.equal(steps["Put stable back on its previous image"], "success", run.promote?.log);
    assert.deepEqual(deploymentState(ns, stable), { image: imageOf(config, releasedDigest), replicas: 2, ready: 2 });
    assert.equal(annotation(stable, releaseAnnotation), String(releasedNumber));
    assert.equal(run.rollback?.result, "success", run.rollback?.log);
    assert.equal(deploymentState(ns, canary).replicas, 0);
    // What runs after the cancellation: the put-back, then the rollback job; each bounded by its
    // timeout-minutes in the workflow (2 and 2), here measured.
    const putBack = run.promote!.steps.find((s) => s.name === "Put stable back on its previous image")!;
    const rollbackSeconds = run.rollback.steps.reduce((sum, s) => sum + s.seconds, 0);
    assert.ok(putBack.seconds + rollbackSeconds < 240, `${putBack.seconds} s + ${rollbackSeconds} s`);
  });

  test("a re-run of an old run's failed scan and promote leaves stable on the newer release, and leaves a newer run's canary alone", async () => {
    writeSmokeReport(config, "pass");
    // Run 210: its canary passes, its scan fails: no promotion, the rollback job retires its canary.
    const old = await release(config, deployer, newDigest(), { runNumber: 210, scan: "failure" });
    assert.equal(old.promote?.result, "skipped");
    // Run 220 is promoted; run 230's canary waits for its approval.
    const newer = newDigest();
    assert.ok((await release(config, deployer, newer, { runNumber: 220 })).promote?.success);
    const waitingDigest = newDigest();
    const waiting = await release(config, deployer, waitingDigest, { runNumber: 230, promote: false });
    assert.ok(waiting.canary.success, waiting.canary.log);
    const canaryBefore = deploymentState(ns, canary);

    // "Re-run failed jobs" on run 210: its scan passes now; its promote runs with run 210's canary outputs.
    const rerun = await resumeRun(config, deployer, old, { scan: "success" });
    assert.equal(outcomes(rerun.promote)["Check the canary and stable's release"], "failure", rerun.promote?.log);
    assert.match(rerun.promote!.log, /the canary was deployed by run 9000230, not by this run \(9000210\)/);
    assert.equal(deploymentState(ns, stable).image, imageOf(config, newer));
    assert.equal(annotation(stable, releaseAnnotation), "220");
    // Its rollback job leaves run 230's canary as it was.
    assert.equal(rerun.rollback?.result, "success", rerun.rollback?.log);
    assert.match(rerun.rollback.log, /deployed by run 9000230, not by this run \(9000210\): left as it is/);
    assert.deepEqual(deploymentState(ns, canary), canaryBefore);

    // Run 230's approval comes: it is its own canary, and it is promoted.
    const approved = await resumeRun(config, deployer, waiting);
    assert.ok(approved.promote?.success, approved.promote?.log);
    assert.equal(deploymentState(ns, stable).image, imageOf(config, waitingDigest));
  });

  test("a re-run of an older run is refused before it touches the canary; a rollback by hand to a released digest is not", async () => {
    writeSmokeReport(config, "pass");
    newerDigest = newDigest();
    const newer = newerDigest;
    assert.ok((await release(config, deployer, newer, { runNumber: 250 })).promote?.success);
    const canaryBefore = deploymentState(ns, canary);
    const rerun = await release(config, deployer, newDigest(), { runNumber: 240 });
    assert.equal(outcomes(rerun.canary)["Refuse a release older than stable's"], "failure", rerun.canary.log);
    assert.match(rerun.canary.log, /release 240 is older than release 250/);
    assert.equal(outcomes(rerun.canary)["Roll the canary back"], "skipped");
    assert.deepEqual(deploymentState(ns, canary), canaryBefore);

    // By hand, with the digest of release 200, which this environment attested.
    const back = await release(config, deployer, "", { runNumber: 260, inputs: { digest: releasedDigest } });
    assert.ok(back.promote?.success, back.canary.log + back.promote?.log);
    assert.equal(deploymentState(ns, stable).image, imageOf(config, releasedDigest));
    assert.equal(annotation(stable, releaseAnnotation), String(releasedNumber));
    assert.match(back.canary.summary, /explicit rollback from release 250 to release 200/);

    // A digest it never released is no rollback target.
    const unknown = await release(config, deployer, "", { runNumber: 261, inputs: { digest: newDigest() } });
    assert.equal(outcomes(unknown.canary)["Verify that tier released the digest"], "failure", unknown.canary.log);
  });

  test("the next environment releases only a digest the environment before it attested, with that workflow's identity", async () => {
    writeSmokeReport(config, "pass");
    const promoted = await release(next, deployer, releasedDigest);
    assert.ok(promoted.canary.success, promoted.canary.log);
    assert.match(promoted.canary.summary, new RegExp(`release ${releasedNumber}: verified as released by tier`));
    assert.ok(promoted.promote?.success, promoted.promote?.log);

    // Only canaried in the first environment, never promoted there: no attestation.
    const onlyCanaried = newDigest();
    assert.ok((await release(config, deployer, onlyCanaried, { promote: false })).canary.success);
    adminKubectl(["scale", `deployment/${canary}`, "--replicas=0", "--namespace", ns]);
    const refused = await release(next, deployer, onlyCanaried);
    assert.equal(outcomes(refused.canary)["Verify that tier released the digest"], "failure", refused.canary.log);
    assert.equal(outcomes(refused.canary)["Deploy the digest to the canary"], "skipped");
  });

  test("a chain of three: each environment verifies the one before it, by that workflow's exact identity", async () => {
    const third = serviceConfig(
      { ...settings, promoteFrom: next.environment, environment: "tier-third" },
      "tier-third",
    );
    writeSmokeReport(config, "pass");
    // Released by the next environment in the test before: accepted.
    assert.ok((await release(third, deployer, releasedDigest)).promote?.success);
    // Release 250's digest was attested by the first environment only: another identity than the next one's.
    const run = await release(third, deployer, newerDigest);
    assert.equal(outcomes(run.canary)["Verify that tier-next released the digest"], "failure", run.canary.log);
  });
});
