// The deploy jobs' own scripts, run for real with bash as the steps run it (`-eo pipefail`), with a
// kubectl stand-in on PATH that answers from a state the test writes: promote-check.sh (what the
// promote job checks at the moment it acts) and canary-retire.sh (a clean-up retires only its
// run's canary, and only if unchanged since read).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { deployPlan, deployWorkflow } from "../../../../components/repository/workflows/deploy";
import { devLike } from "./stack-configs";

const config = devLike();
const workflow = deployPlan(config);
const run = "9000210";
const image = "ghcr.io/acme/orders-api@sha256:" + "a".repeat(64);
const future = () => String(Math.floor(Date.now() / 1000) + 600);

interface Cluster {
  /** The canary Deployment, as read_canary_state prints it. */
  canary: { expires: string; run: string; image: string; replicas: string; ready: string; version: string };
  /** The canary's pods, as pod_states prints them. */
  pods: string;
  stableRelease: string;
  /** Scales refused with a conflict before one succeeds. */
  conflicts?: number;
  /** `get` requests that fail before one succeeds. */
  failedReads?: number;
}

/** Runs a step's script of the rendered workflow against the stand-in cluster. */
function runStep(job: "promote" | "rollback", stepName: string, cluster: Cluster, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "deploy-scripts-"));
  const c = cluster.canary;
  writeFileSync(join(dir, "conflicts"), String(cluster.conflicts ?? 0));
  writeFileSync(join(dir, "failed-reads"), String(cluster.failedReads ?? 0));
  writeFileSync(
    join(dir, "kubectl"),
    [
      "#!/bin/bash",
      `printf '%s\\n' "kubectl $*" >> "${dir}/calls"`,
      `count() { local n; n=$(cat "${dir}/$1"); if [ "$n" -gt 0 ]; then echo $((n - 1)) > "${dir}/$1"; return 0; fi; return 1; }`,
      `if [ "$1" = get ] && count failed-reads; then echo "Unable to connect to the server" >&2; exit 1; fi`,
      'case "$1 $2" in',
      `  "get deployment/orders-api-canary") printf '%s' '${[c.expires, c.run, c.image, c.replicas, c.ready, c.ready, c.version].join("|")}' ;;`,
      `  "get pods") printf '%s\\n' '${cluster.pods}' ;;`,
      `  "get deployment/orders-api") printf '%s' '${cluster.stableRelease}' ;;`,
      `  "scale deployment/orders-api-canary") if count conflicts; then echo 'Error from server (Conflict): the object has been modified' >&2; exit 1; fi; touch "${dir}/scaled" ;;`,
      '  *) echo "unexpected: $*" >&2; exit 2 ;;',
      "esac",
    ].join("\n") + "\n",
    { mode: 0o755 },
  );
  const step = workflowJob(job).steps.find((s) => s.name === stepName)!;
  const summary = join(dir, "summary.md");
  writeFileSync(summary, "");
  const ran = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run!], {
    encoding: "utf8",
    env: {
      PATH: `${dir}:${process.env.PATH}`,
      GITHUB_RUN_ID: run,
      GITHUB_STEP_SUMMARY: summary,
      IMAGE: "ghcr.io/acme/orders-api",
      DIGEST: image.split("@")[1],
      RELEASE: "210",
      ROLLBACK: "false",
      RETRY_ATTEMPTS: "3",
      ...env,
    },
  });
  const calls = existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8") : "";
  return {
    status: ran.status,
    output: ran.stdout + ran.stderr,
    scaled: existsSync(join(dir, "scaled")),
    calls,
    summary: readFileSync(summary, "utf8"),
  };
}

const workflowJob = (id: string) => deployWorkflow(config, workflow).workflow.jobs[id];

const healthy = (): Cluster => ({
  canary: { expires: future(), run, image, replicas: "1", ready: "1", version: "41" },
  pods: `orders-api-canary-1|${image}||0|True`,
  stableRelease: "200",
});

describe("the promotion's check at the moment it acts", () => {
  const check = (cluster: Cluster, env?: Record<string, string>) =>
    runStep("promote", "Check the canary and stable's release", cluster, env);
  test("this run's healthy, unexpired canary of the release, stable on an older release: passes", () => {
    const r = check(healthy());
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /the canary is this run's, runs .* with 1 of 1 pod\(s\) ready; stable runs release 200/);
  });
  for (const [what, change, message] of [
    [
      "another run's canary",
      (c: Cluster) => (c.canary.run = "9000230"),
      /deployed by run 9000230, not by this run \(9000210\)/,
    ],
    [
      "a canary of another image",
      (c: Cluster) => (c.canary.image = image.replace(/a{64}/, "b".repeat(64))),
      /the canary runs .*bbbb/,
    ],
    ["an expired canary", (c: Cluster) => (c.canary.expires = "1000"), /the canary expired at 1000/],
    ["a canary scaled to 0", (c: Cluster) => ((c.canary.replicas = "0"), (c.canary.ready = "")), /not healthy: 0 of 0/],
    ["a canary pod not ready", (c: Cluster) => (c.canary.ready = "0"), /not healthy: 0 of 1/],
    [
      "a canary pod that restarted",
      (c: Cluster) => (c.pods = `orders-api-canary-1|${image}||2|True`),
      /restarted 2 time/,
    ],
    [
      "stable on a newer release",
      (c: Cluster) => (c.stableRelease = "220"),
      /stable runs release 220, newer than release 210/,
    ],
  ] as const) {
    test(`${what}: refused`, () => {
      const cluster = healthy();
      change(cluster);
      const r = check(cluster);
      assert.equal(r.status, 1, r.output);
      assert.match(r.output, /::error::not promoted: /);
      assert.match(r.output, message);
    });
  }
  test("an explicit rollback may go back to an older release; nothing else it checks is relaxed", () => {
    const older = healthy();
    older.stableRelease = "220";
    assert.equal(check(older, { ROLLBACK: "true" }).status, 0);
    older.canary.run = "9000230";
    assert.equal(check(older, { ROLLBACK: "true" }).status, 1);
  });
  test("one failed read of the cluster is tried again", () => {
    const r = check({ ...healthy(), failedReads: 1 });
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /retrying after a failed read \(attempt 1 of 3\): read_canary_state/);
  });
});

describe("a clean-up retires only its own run's canary", () => {
  const retire = (cluster: Cluster) => runStep("rollback", "Scale the canary to 0", cluster);
  test("this run's canary: scaled to 0, on the condition of the resourceVersion it read", () => {
    const r = retire(healthy());
    assert.equal(r.status, 0, r.output);
    assert.ok(r.scaled);
    assert.match(r.calls, /kubectl scale deployment\/orders-api-canary --replicas=0 --resource-version=41 /);
    assert.match(
      r.summary,
      /^### Rolled back in dev\n- canary deployment\/orders-api-canary: scaled to 0; stable keeps its image\n$/,
    );
  });
  test("another run's canary (a re-run of an older run, a newer run's canary waiting): left as it is", () => {
    const cluster = healthy();
    cluster.canary.run = "9000230";
    const r = retire(cluster);
    assert.equal(r.status, 0, r.output);
    assert.equal(r.scaled, false);
    assert.doesNotMatch(r.calls, /kubectl scale/);
    assert.match(r.summary, /left to run 9000230/);
  });
  test("a change between the read and the scale (409): read again and retried, up to 3 times", () => {
    const twice = retire({ ...healthy(), conflicts: 2 });
    assert.equal(twice.status, 0, twice.output);
    assert.ok(twice.scaled);
    const always = retire({ ...healthy(), conflicts: 3 });
    assert.equal(always.status, 1);
    assert.match(always.output, /::error::could not scale deployment\/orders-api-canary to 0/);
  });
});
