// Rollout timing: one pod's bound from the probes and settings, the timeouts that follow, and the
// numbers docs/pipeline.md states, computed here so that the docs cannot go stale.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import {
  neverReadyBoundSeconds,
  podAvailableSeconds,
  progressDeadlineSeconds,
  rolloutTimeoutSeconds,
  startupFailureThreshold,
} from "../../../components/shared/rollout-timing";
import { prodLike } from "../repository/workflows/stack-configs";

const defaults = { startupSeconds: 60, minReadySeconds: 10 };
const docs = fs.readFileSync(path.join(__dirname, "../../../docs/pipeline.md"), "utf8");

test("one pod's bound: schedule and pull, the startup allowance, a readiness probe, minReadySeconds", () => {
  assert.equal(startupFailureThreshold(defaults), 12);
  assert.equal(startupFailureThreshold({ ...defaults, startupSeconds: 61 }), 13, "rounded up: never less than asked");
  assert.equal(podAvailableSeconds(defaults), 60 + 60 + 5 + 2 + 10);
  assert.equal(progressDeadlineSeconds(defaults), podAvailableSeconds(defaults));
  assert.ok(podAvailableSeconds({ startupSeconds: 300, minReadySeconds: 30 }) > podAvailableSeconds(defaults));
});

test("a rollout waits one bound per pod made available in turn", () => {
  assert.equal(rolloutTimeoutSeconds(defaults, 1), 137 + 30);
  assert.equal(rolloutTimeoutSeconds(defaults, 18), 18 * 137 + 30);
});

test("docs/pipeline.md states the bounds these functions compute", () => {
  assert.ok(docs.includes(`rolled back within ${neverReadyBoundSeconds} s of its deploy`));
  assert.ok(docs.includes(`${podAvailableSeconds(defaults)} s with the defaults`));
  // A prod-like stack: 18 replicas with the default probes.
  const prod = prodLike();
  assert.equal(prod.replicas, 18);
  assert.ok(docs.includes(`(18 replicas: ${rolloutTimeoutSeconds(prod, prod.replicas)} s)`));
  // The default startup allowance restarts a silent container inside the bound.
  assert.ok(defaults.startupSeconds < neverReadyBoundSeconds);
});
