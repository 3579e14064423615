// The approval deadline job of a gated environment (approval-deadline.sh), run by the project's
// runner with a stand-in for the GitHub CLI: GitHub's approvals and its jobs API cannot run here
// (docs/verification.md). The stand-in answers the jobs listing with the promote job's status
// from a file the test writes, and records a cancellation of the run.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { deployWorkflow } from "../../components/repository/workflows/deploy";
import { renderWorkflow } from "../../components/repository/workflows/writer";
import { serviceConfig } from "./tier";
import { runJob } from "./workflow-runner";

const config = serviceConfig(
  {
    githubOwner: "acme",
    githubRepository: "orders-api",
    appName: "orders-api",
    clusterAuth: "token",
    clusterEndpoint: "https://127.0.0.1:6443",
    clusterCaData: Buffer.from("-----BEGIN CERTIFICATE-----\n").toString("base64"),
    environment: "prod",
    promoteFrom: "dev",
    requiredReviewers: ["alice"],
    initialImage: "ghcr.io/acme/orders-api:1.4.2",
  },
  "prod",
);

/** gh: `api …/jobs --jq …` prints the promote job's status (the file `status`); `api --method POST …/cancel` records it. */
function ghStandIn(dir: string): void {
  fs.writeFileSync(
    path.join(dir, "gh"),
    [
      "#!/bin/bash",
      `printf '%s\\n' "gh $*" >> "${dir}/calls"`,
      'if [ "$1" = api ] && [ "$2" = --method ] && [ "$3" = POST ]; then',
      `  [[ "$4" == repos/acme/orders-api/actions/runs/77/cancel ]] && touch "${dir}/cancelled" && exit 0`,
      "  exit 1",
      "fi",
      `[ "$2" = repos/acme/orders-api/actions/runs/77/attempts/2/jobs ] || { echo "unexpected: $*" >&2; exit 1; }`,
      `if [ -e "${dir}/fail-once" ]; then rm "${dir}/fail-once"; echo "HTTP 502: Bad Gateway" >&2; exit 1; fi`,
      // As gh's --jq filter reads it: from the environment.
      `[ "$(printenv PROMOTE_JOB)" = "Promote (prod)" ] || { echo "PROMOTE_JOB is not in the environment" >&2; exit 1; }`,
      `cat "${dir}/status"`,
    ].join("\n") + "\n",
    { mode: 0o755 },
  );
}

async function deadline(status: string, expiresInSeconds: number, failOnce = false) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gh-"));
  ghStandIn(dir);
  if (failOnce) fs.writeFileSync(path.join(dir, "fail-once"), "");
  fs.writeFileSync(path.join(dir, "status"), status);
  const workflow = renderWorkflow(deployWorkflow(config), { project: "canary-pipeline", stack: "prod" }).replace(
    "export CHECK_SECONDS=30",
    "export CHECK_SECONDS=1",
  );
  const started = Date.now();
  const result = await runJob(
    workflow,
    "approval-deadline",
    {
      github: { repository: "acme/orders-api", run_id: "77", run_attempt: "2", token: "ghs_token" },
      needs: {
        canary: {
          result: "success",
          outputs: { expires: String(Math.floor(Date.now() / 1000) + expiresInSeconds) },
        },
      },
    },
    { pathPrefix: [dir] },
  );
  return {
    result,
    seconds: (Date.now() - started) / 1000,
    cancelled: fs.existsSync(path.join(dir, "cancelled")),
    calls: fs.readFileSync(path.join(dir, "calls"), "utf8"),
  };
}

describe("a gated environment's approval deadline", () => {
  test("a promotion still waiting for approval when the canary expires: the run is cancelled, freeing the deploy lock", async () => {
    const r = await deadline("waiting", 3);
    assert.equal(r.result.result, "success", r.result.log);
    assert.ok(r.cancelled, r.calls);
    assert.ok(r.seconds >= 2 && r.seconds < 15, `${r.seconds} s`);
    assert.match(r.result.summary, /the canary expired before its promotion was approved/);
  });
  test("a promotion that has started (approved in time) is left to its own check: nothing is cancelled", async () => {
    for (const status of ["in_progress", "completed"]) {
      const r = await deadline(status, 3);
      assert.equal(r.result.result, "success", r.result.log);
      assert.equal(r.cancelled, false, status);
      assert.ok(r.seconds < 3, `${status}: ${r.seconds} s`);
    }
  });
  test("a lookup that fails once is tried again; the wait goes on until the expiry", async () => {
    const r = await deadline("waiting", 4, true);
    assert.equal(r.result.result, "success", r.result.log);
    assert.match(r.result.log, /retrying after a failed read \(attempt 1 of 3\): gh api/);
    assert.ok(r.cancelled);
    assert.ok((r.calls.match(/actions\/runs\/77\/attempts\/2\/jobs/g) ?? []).length >= 2, r.calls);
  });
});
