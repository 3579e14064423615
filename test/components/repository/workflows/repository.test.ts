// ci.yml builds without pushing and reports its scan to code scanning (the previews: preview.test.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { actions, uses } from "../../../../components/repository/workflows/actions";
import { publishCacheScope } from "../../../../components/repository/workflows/deploy";
import { ciWorkflow, pullRequestCacheScope } from "../../../../components/repository/workflows/repository";
import { devLike } from "./stack-configs";

const forkSkip = "github.event.pull_request.head.repo.full_name == github.repository";

describe("ci.yml", () => {
  const { workflow } = ciWorkflow(devLike());
  test("runs on pull requests only", () => assert.deepEqual(Object.keys(workflow.on), ["pull_request"]));
  test("lints and tests on every Node.js line", () => {
    assert.deepEqual(workflow.jobs.test.strategy?.matrix.node, ["22", "24", "26"]);
    const runs = workflow.jobs.test.steps.map((s) => s.run);
    assert.ok(runs.includes("npm run lint --if-present") && runs.includes("npm test"));
  });
  test("builds without pushing, in a cache scope the publishing build never reads", () => {
    const build = workflow.jobs.image.steps.find((s) => s.uses === uses(actions.buildPush))!;
    assert.equal(build.with?.push, false);
    assert.equal(build.with?.["cache-from"], `type=gha,scope=${pullRequestCacheScope}`);
    assert.notEqual(pullRequestCacheScope, publishCacheScope("dev"));
  });
  test("uploads Trivy's SARIF to code scanning, skipping forks, and only this job writes security events", () => {
    const steps = workflow.jobs.image.steps;
    const trivy = steps.findIndex((s) => s.uses === uses(actions.trivy));
    const upload = steps.findIndex((s) => s.uses === uses(actions.uploadSarif));
    assert.ok(trivy >= 0 && upload > trivy);
    assert.equal(steps[trivy].with?.format, "sarif");
    assert.equal(steps[upload].with?.sarif_file, steps[trivy].with?.output);
    assert.match(steps[upload].if ?? "", /^always\(\) && /);
    assert.ok(steps[upload].if?.includes(forkSkip));
    // actions: read: upload-sarif in a private repository reads the run's workflow.
    assert.deepEqual(workflow.jobs.image.permissions, {
      actions: "read",
      contents: "read",
      "security-events": "write",
    });
  });
});
