// The repository-wide workflows: ci.yml builds without pushing and reports its scan to code
// scanning; infra-preview.yml previews each stack with that stack's preview role, skipping forks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { actions, uses } from "../../../../components/repository/workflows/actions";
import { roleVariablesAssumedBy } from "../../../../components/repository/workflows/model";
import { previewRoleVariable } from "../../../../components/repository/workflows/pipeline";
import { publishCacheScope } from "../../../../components/repository/workflows/deploy";
import { ciWorkflow, infraPreviewWorkflow, previewJobId, pullRequestCacheScope } from "../../../../components/repository/workflows/repository";
import { allConfigs, devLike } from "./stack-configs";

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
    assert.deepEqual(workflow.jobs.image.permissions, { contents: "read", "security-events": "write" });
  });
});

describe("infra-preview.yml", () => {
  test("one job per preview stack, each assuming that stack's preview role by a literal variable", () => {
    for (const config of Object.values(allConfigs())) {
      const { workflow } = infraPreviewWorkflow(config);
      assert.deepEqual(Object.keys(workflow.jobs), config.previewStacks.map(previewJobId));
      for (const stack of config.previewStacks) {
        const job = workflow.jobs[previewJobId(stack)];
        assert.deepEqual(roleVariablesAssumedBy(job), [previewRoleVariable(stack)]);
        assert.equal(job.if, forkSkip);
        assert.equal(job.strategy, undefined, "no matrix");
        const names = job.steps.map((s) => s.uses ?? s.run);
        assert.ok(names.indexOf("npm ci") < names.indexOf(uses(actions.pulumi)), "npm ci before the Automation API runs");
        const pulumi = job.steps.find((s) => s.uses === uses(actions.pulumi))!;
        assert.deepEqual({ ...pulumi.with }, {
          command: "preview", "stack-name": stack, "work-dir": "infra", "comment-on-pr": true, "edit-pr-comment": true, "github-token": "${{ secrets.GITHUB_TOKEN }}",
        });
        assert.equal(pulumi.env?.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
        assert.deepEqual(job.permissions, { contents: "read", "id-token": "write", "pull-requests": "write" });
      }
    }
  });
  test("runs on pull requests that touch the infrastructure", () => {
    const { on } = infraPreviewWorkflow(devLike()).workflow;
    assert.deepEqual(on, { pull_request: { branches: ["main"], paths: ["infra/**", ".github/workflows/infra-preview.yml"] } });
  });
  test("runs in the configured infrastructure folder, or the repository's root", () => {
    const inFolder = (infraDirectory: string) => {
      const { workflow } = infraPreviewWorkflow({ ...devLike(), infraDirectory });
      const job = workflow.jobs[previewJobId("dev")];
      return {
        paths: workflow.on.pull_request?.paths?.[0],
        install: job.steps.find((s) => s.run === "npm ci")?.["working-directory"],
        preview: job.steps.find((s) => s.uses === uses(actions.pulumi))?.with?.["work-dir"],
        lockfile: job.steps.find((s) => s.uses === uses(actions.setupNode))?.with?.["cache-dependency-path"],
      };
    };
    assert.deepEqual(inFolder("deploy/pulumi"), { paths: "deploy/pulumi/**", install: "deploy/pulumi", preview: "deploy/pulumi", lockfile: "deploy/pulumi/package-lock.json" });
    assert.deepEqual(inFolder("."), { paths: "**", install: ".", preview: ".", lockfile: "./package-lock.json" });
  });
});
