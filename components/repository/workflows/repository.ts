// ci.yml, the repository-wide test and image build on every pull request, committed by the one
// stack with manageRepoWorkflows. The previews are in preview.ts.
import type { StackConfig } from "../../../config/schema";
import { actions, uses } from "./actions";
import type { Job, WorkflowFile } from "./model";
import { ciWorkflowPath, runner } from "./names";
import { testRun, type TestConfig } from "./deploy/test-job";
import { checkout, sameRepositoryPullRequest } from "./steps";

export type RepositoryWorkflowConfig = Pick<StackConfig, "deployBranch" | "appName" | "scanSeverity"> & TestConfig;

/** The gha cache scope of pull-request builds: never read by the publishing build. */
export const pullRequestCacheScope = "pull-request";

/** The newest Node.js line of the matrix: what single-version jobs run. */
export const newestNode = (config: Pick<StackConfig, "nodeVersions">) =>
  [...config.nodeVersions].sort((a, b) => Number(b) - Number(a))[0] ?? "24";

/**
 * ci.yml: the deploy workflow's test job on pull requests (testRuntime, testSetup, testCommand; with
 * node also `npm run lint --if-present`), build without pushing, scan, SARIF to code scanning.
 */
export function ciWorkflow(config: RepositoryWorkflowConfig): WorkflowFile {
  const localImage = `${config.appName}:pr-\${{ github.sha }}`;
  const run = testRun(config, { lint: true });
  const node = (config.testRuntime ?? "node") === "node";
  const test: Job = {
    name: `${node ? "Lint and test" : "Test"}${run.label === undefined ? "" : ` (${run.label})`}`,
    "runs-on": runner,
    permissions: { contents: "read" },
    "timeout-minutes": 15,
    ...(run.strategy !== undefined ? { strategy: run.strategy } : {}),
    steps: run.steps,
  };
  const image: Job = {
    name: "Build and scan (not pushed)",
    "runs-on": runner,
    // The only job that may write: it uploads the scan to code scanning.
    // upload-sarif writes code scanning alerts and, in a private repository, reads the run's
    // workflow (GitHub docs, "Uploading a SARIF file to GitHub": actions read, contents read).
    permissions: { actions: "read", contents: "read", "security-events": "write" },
    "timeout-minutes": 30,
    steps: [
      checkout(),
      { name: "Set up Buildx", uses: uses(actions.setupBuildx) },
      {
        name: "Build",
        uses: uses(actions.buildPush),
        with: {
          context: ".",
          push: false,
          load: true,
          tags: localImage,
          "cache-from": `type=gha,scope=${pullRequestCacheScope}`,
          "cache-to": `type=gha,mode=max,scope=${pullRequestCacheScope}`,
        },
      },
      {
        name: "Trivy",
        uses: uses(actions.trivy),
        with: {
          "image-ref": localImage,
          severity: config.scanSeverity.join(","),
          "ignore-unfixed": true,
          "exit-code": "1",
          format: "sarif",
          output: "trivy-results.sarif",
        },
      },
      {
        name: "Upload to code scanning",
        // A fork PR's GITHUB_TOKEN is read-only (GitHub docs, "Events that trigger workflows"), so
        // it cannot write security events: skip rather than fail.
        if: `always() && ${sameRepositoryPullRequest} && hashFiles('trivy-results.sarif') != ''`,
        uses: uses(actions.uploadSarif),
        with: { sarif_file: "trivy-results.sarif", category: "trivy" },
      },
    ],
  };
  return {
    path: ciWorkflowPath,
    workflow: {
      name: "CI",
      on: { pull_request: { branches: [config.deployBranch] } },
      permissions: {},
      concurrency: { group: "ci-${{ github.event.pull_request.number }}", "cancel-in-progress": true },
      jobs: { test, image },
    },
  };
}
