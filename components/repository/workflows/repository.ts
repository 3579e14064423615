// The repository-wide workflows: ci.yml on every pull request, and infra-preview.yml, which posts
// the `pulumi preview` of each preview stack on pull requests touching the infrastructure. One
// stack commits them (manageRepoWorkflows); every stack can compute them, since each stack's
// preview role trusts the job that previews it.
import type { StackConfig } from "../../../config/schema";
import { actions, uses } from "./actions";
import type { Job, WorkflowFile } from "./model";
import {
  ciWorkflowPath, infraPreviewWorkflowPath, previewRoleVariable, pulumiTokenSecret, runner,
} from "./names";
import { bash, checkout, sameRepositoryPullRequest, setupNode } from "./steps";

export type RepositoryWorkflowConfig = Pick<StackConfig,
  "deployBranch" | "appName" | "nodeVersions" | "scanSeverity" | "previewStacks" | "awsRegion" | "infraDirectory">;

/** The gha cache scope of pull-request builds: never read by the publishing build. */
export const pullRequestCacheScope = "pull-request";

/** The newest Node.js line of the matrix: what single-version jobs run. */
const newestNode = (config: RepositoryWorkflowConfig) => [...config.nodeVersions].sort((a, b) => Number(b) - Number(a))[0] ?? "24";

/** ci.yml: lint and test on each Node.js line, build without pushing, scan, SARIF to code scanning. */
export function ciWorkflow(config: RepositoryWorkflowConfig): WorkflowFile {
  const localImage = `${config.appName}:pr-\${{ github.sha }}`;
  const test: Job = {
    name: "Lint and test (Node.js ${{ matrix.node }})",
    "runs-on": runner,
    permissions: { contents: "read" },
    "timeout-minutes": 15,
    strategy: { "fail-fast": true, matrix: { node: config.nodeVersions } },
    steps: [
      checkout(),
      setupNode("${{ matrix.node }}"),
      bash("Install", "npm ci"),
      bash("Lint", "npm run lint --if-present"),
      bash("Test", "npm test"),
    ],
  };
  const image: Job = {
    name: "Build and scan (not pushed)",
    "runs-on": runner,
    // The only job that may write: it uploads the scan to code scanning.
    permissions: { contents: "read", "security-events": "write" },
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

/** The job id of a stack's preview. */
export const previewJobId = (stack: string) => `preview-${stack.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;

/**
 * infra-preview.yml: one job per stack (not a matrix), so that each job names its role's variable
 * literally and roleVariablesAssumedBy can tell which role it assumes.
 */
export function infraPreviewWorkflow(config: RepositoryWorkflowConfig): WorkflowFile {
  const jobs = Object.fromEntries(config.previewStacks.map((stack): [string, Job] => [previewJobId(stack), {
    name: `Preview ${stack}`,
    "runs-on": runner,
    // Fork PRs get neither secrets nor an OIDC token (GitHub docs, "Events that trigger
    // workflows": pull_request): skip cleanly.
    if: sameRepositoryPullRequest,
    permissions: { contents: "read", "id-token": "write", "pull-requests": "write" },
    "timeout-minutes": 20,
    steps: [
      checkout(),
      setupNode(newestNode(config), config.infraDirectory),
      // pulumi/actions runs the Automation API: the program's dependencies must be installed.
      bash("Install", "npm ci", { "working-directory": config.infraDirectory }),
      {
        name: "Assume the preview role",
        uses: uses(actions.awsCredentials),
        with: {
          "role-to-assume": `\${{ vars.${previewRoleVariable(stack)} }}`,
          // STS is global; the program's providers read their region from the stack's config.
          "aws-region": config.awsRegion ?? "us-east-1",
        },
      },
      {
        name: "pulumi preview",
        uses: uses(actions.pulumi),
        with: {
          command: "preview",
          "stack-name": stack,
          "work-dir": config.infraDirectory,
          "comment-on-pr": true,
          "edit-pr-comment": true,
          "github-token": "${{ secrets.GITHUB_TOKEN }}",
        },
        // The GitHub provider reads GITHUB_TOKEN (the job's own, read-only here) for the lookups a
        // preview makes, such as reviewer ids.
        env: { PULUMI_ACCESS_TOKEN: `\${{ secrets.${pulumiTokenSecret} }}`, GITHUB_TOKEN: "${{ secrets.GITHUB_TOKEN }}" },
      },
    ],
  }]));
  return {
    path: infraPreviewWorkflowPath,
    workflow: {
      name: "Infrastructure preview",
      on: { pull_request: { branches: [config.deployBranch], paths: [config.infraDirectory === "." ? "**" : `${config.infraDirectory}/**`, infraPreviewWorkflowPath] } },
      permissions: {},
      concurrency: { group: "infra-preview-${{ github.event.pull_request.number }}", "cancel-in-progress": true },
      jobs,
    },
  };
}
