// The workflows that run `pulumi preview` of a stack with its read-only identities: infra-preview.yml
// posts the refreshed preview of each preview stack on pull requests that touch the
// infrastructure (committed by the stack with manageRepoWorkflows), and drift-<stack>.yml runs a
// refreshed preview on a schedule expecting no changes (committed by each stack). Neither reads a
// stored Pulumi token: Pulumi Cloud gets a short-lived token for the job's GitHub OIDC token, an S3
// backend is read with the preview role's session. Both exist only when a backend is configured.
//
// Each preview runs in an environment of its own: a pull request's preview runs the pull request's
// code with the stack's preview identity, so `<stack>-preview` carries the stack's reviewers (prod's
// previews wait for an approval; dev's, ungated, run on every pull request), and the drift check
// runs in `<stack>-drift`, open to the deploy branch only. Each job uses its own stack's identity
// only: its stack's preview role, and in Pulumi Cloud its stack's own pulumiTeam (read from that
// stack's file: config/preview-identities.ts), never the owning stack's. The preview stacks deploy
// as the stack owning infra-preview.yml does (clusterAuth; loadStackConfig refuses one that does not).
import type { StackConfig } from "../../../config/schema";
import { unreadableKinds } from "../../shared/rbac-rules";
import { pulumiBackend, type PulumiBackend } from "../../shared/pulumi-backend";
import { actions, uses } from "./actions";
import { EnvVariable, expression, StepId } from "./links";
import type { Job, Step, WorkflowFile } from "./model";
import {
  driftEnvironment,
  driftWorkflowPath,
  infraPreviewWorkflowPath,
  previewEnvironment,
  previewKubeconfigSecret,
  previewRoleVariable,
  runner,
} from "./names";
import { newestNode } from "./repository";
import { bash, checkout, sameRepositoryPullRequest, setupNode } from "./steps";

export type PreviewWorkflowConfig = Pick<
  StackConfig,
  | "stack"
  | "clusterAuth"
  | "deployBranch"
  | "previewStacks"
  | "awsRegion"
  | "infraDirectory"
  | "nodeVersions"
  | "driftSchedule"
  | "pulumiBackendUrl"
  | "pulumiOrganization"
  | "pulumiTeam"
  | "pulumiSecretsKeyArn"
  | "previewIdentities"
>;

/**
 * What the preview identities may not read, so a refreshed preview leaves it out (`--exclude`: the
 * engine neither refreshes nor diffs a resource outside the operation, pulumi/pulumi
 * pkg/resource/deploy/step_generator.go): GitHub secrets and variables (the job's token cannot be
 * granted them) and the cluster's Secrets (the read-only Role grants none: a pull Secret holds a
 * registry token, the deployer's token Secret the deployer itself). A change to one of them shows
 * in `pulumi up`'s own preview only.
 */
export const unreadableByPreviews: readonly string[] = [
  "github:index/actionsSecret:ActionsSecret",
  "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
  "github:index/actionsVariable:ActionsVariable",
  "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
  ...unreadableKinds,
];

/** A preview job's time limit, in minutes; the Pulumi token it exchanges lives as long. */
const previewMinutes = 20;

/** The pulumi/actions step, and what the drift report reads of it. */
const previewStep = new StepId("preview");
const previewOutput = previewStep.output("output");
/** The kubeconfig file kubectl and the Kubernetes provider read (token mode). */
const kubeconfigVariable = new EnvVariable("KUBECONFIG");

/** The job id of a stack's preview. */
export const previewJobId = (stack: string) => `preview-${stack.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;

/**
 * The backend as `stack`'s preview jobs log in to it: in Pulumi Cloud, with that stack's own
 * organization and team (its identity; this stack's own settings for itself). Undefined: the
 * stack's identity is unknown here, which parseStackConfig refuses for a stack that commits
 * infra-preview.yml (another stack computes the file for its own role's trust only).
 */
function backendOf(config: PreviewWorkflowConfig, backend: PulumiBackend, stack: string): PulumiBackend | undefined {
  if (backend.kind !== "cloud" || stack === config.stack) return backend;
  const identity = config.previewIdentities[stack];
  if (identity === undefined) return undefined;
  return pulumiBackend({
    pulumiBackendUrl: backend.url,
    pulumiOrganization: identity.pulumiOrganization ?? backend.organization,
    ...(identity.pulumiTeam !== undefined ? { pulumiTeam: identity.pulumiTeam } : {}),
  });
}

/** A job whose stack's Pulumi identity is unknown fails before it logs in to anything. */
const unknownIdentity = (stack: string): Step =>
  bash(
    "Unknown Pulumi identity",
    `echo "${stack}: this stack's Pulumi identity (its pulumiTeam) was unknown when the workflow was generated: regenerate it from a stack that reads Pulumi.${stack}.yaml" >&2\nexit 1`,
  );

/** Logs in to Pulumi Cloud with a token exchanged for the job's GitHub OIDC token (pulumi/auth-actions). */
function pulumiCloudLogin(backend: PulumiBackend & { kind: "cloud" }): Step {
  return {
    name: "Get a short-lived Pulumi token",
    uses: uses(actions.pulumiAuth),
    with: {
      organization: backend.organization,
      "requested-token-type":
        backend.team === undefined
          ? "urn:pulumi:token-type:access_token:organization"
          : "urn:pulumi:token-type:access_token:team",
      ...(backend.team === undefined ? {} : { scope: `team:${backend.team}` }),
      "token-expiration": previewMinutes * 60,
      "cloud-url": backend.url,
    },
  };
}

/** The steps of a refreshed preview of `stack` through its preview role. */
function previewSteps(
  config: PreviewWorkflowConfig,
  repositoryBackend: PulumiBackend,
  stack: string,
  mode: "pull-request" | "drift",
): Step[] {
  const backend = backendOf(config, repositoryBackend, stack);
  if (backend === undefined) return [unknownIdentity(stack)];
  return [
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
    // Token mode: the environment holds a read-only kubeconfig of the stack's namespace (eks mode
    // builds its own from the preview role's session and has none).
    ...(config.clusterAuth !== "token"
      ? []
      : [
          bash(
            "Use the read-only kubeconfig",
            [
              "umask 077",
              'printf \'%s\' "$PREVIEW_KUBECONFIG" > "$RUNNER_TEMP/kubeconfig"',
              kubeconfigVariable.write("$RUNNER_TEMP/kubeconfig"),
            ].join("\n"),
            { env: { PREVIEW_KUBECONFIG: `\${{ secrets.${previewKubeconfigSecret} }}` } },
          ),
        ]),
    ...(backend.kind === "cloud" ? [pulumiCloudLogin(backend)] : []),
    {
      name: "pulumi preview",
      id: previewStep.id,
      uses: uses(actions.pulumi),
      with: {
        command: "preview",
        "stack-name": backend.kind === "cloud" ? `${backend.organization}/${stack}` : stack,
        "work-dir": config.infraDirectory,
        "cloud-url": backend.url,
        // The live objects, not the last state: the comment shows the real difference.
        refresh: true,
        exclude: unreadableByPreviews.map((type) => `**${type}::**`).join("\n"),
        ...(mode === "drift"
          ? { "expect-no-changes": true }
          : { "comment-on-pr": true, "edit-pr-comment": true, "github-token": "${{ secrets.GITHUB_TOKEN }}" }),
      },
      // The GitHub provider reads GITHUB_TOKEN (the job's own, read-only here) for the lookups a
      // preview makes, such as reviewer ids.
      env: { GITHUB_TOKEN: "${{ secrets.GITHUB_TOKEN }}" },
    },
  ];
}

/**
 * The permissions of a preview job: read the code and the repository's environments and their
 * branch policies (what the GitHub provider refreshes; GitHub's REST docs, "Deployment
 * environments", ask for Actions read), get OIDC tokens (AWS, Pulumi Cloud).
 */
const previewPermissions = { actions: "read", contents: "read", "id-token": "write" } as const;

/**
 * infra-preview.yml: one job per stack (not a matrix), so that each job names its role's variable
 * literally and roleVariablesAssumedBy can tell which role it assumes. Undefined without a backend.
 */
export function infraPreviewWorkflow(config: PreviewWorkflowConfig): WorkflowFile | undefined {
  const backend = pulumiBackend(config);
  if (backend === undefined) return undefined;
  const jobs = Object.fromEntries(
    config.previewStacks.map((stack): [string, Job] => [
      previewJobId(stack),
      {
        name: `Preview ${stack}`,
        "runs-on": runner,
        // Fork PRs get neither secrets nor an OIDC token (GitHub docs, "Events that trigger
        // workflows": pull_request): skip cleanly.
        if: sameRepositoryPullRequest,
        environment: { name: previewEnvironment(stack) },
        permissions: { ...previewPermissions, "pull-requests": "write" },
        "timeout-minutes": previewMinutes,
        steps: previewSteps(config, backend, stack, "pull-request"),
      },
    ]),
  );
  const infrastructure = config.infraDirectory === "." ? "**" : `${config.infraDirectory}/**`;
  return {
    path: infraPreviewWorkflowPath,
    workflow: {
      name: "Infrastructure preview",
      on: { pull_request: { branches: [config.deployBranch], paths: [infrastructure, infraPreviewWorkflowPath] } },
      permissions: {},
      concurrency: { group: "infra-preview-${{ github.event.pull_request.number }}", "cancel-in-progress": true },
      jobs,
    },
  };
}

/**
 * drift-<stack>.yml: the stack's refreshed preview on a schedule, failing when it proposes any
 * change, with the preview's output in the run's summary. Undefined without a backend, or with
 * driftSchedule off. GitHub runs schedules from the default branch only: the deploy branch.
 */
export function driftWorkflow(config: PreviewWorkflowConfig): WorkflowFile | undefined {
  const backend = pulumiBackend(config);
  if (backend === undefined || config.driftSchedule === "off") return undefined;
  const report = bash(
    "Report",
    [
      'if [ "$OUTCOME" = success ]; then',
      '  printf \'## No drift in %s\\n\\nThe refreshed preview proposes no change.\\n\' "$STACK" >> "$GITHUB_STEP_SUMMARY"',
      "else",
      '  printf \'## Drift in %s\\n\\nThe refreshed preview (%s) proposes changes, or could not run:\\n\\n~~~\\n%s\\n~~~\\n\' "$STACK" "$OUTCOME" "$OUTPUT" >> "$GITHUB_STEP_SUMMARY"',
      "fi",
    ].join("\n"),
    {
      if: "always()",
      env: {
        STACK: config.stack,
        OUTCOME: expression(previewStep.outcome),
        OUTPUT: expression(previewOutput.expression),
      },
    },
  );
  return {
    path: driftWorkflowPath(config.stack),
    workflow: {
      name: `Drift ${config.stack}`,
      on: { schedule: [{ cron: config.driftSchedule }], workflow_dispatch: null },
      permissions: {},
      concurrency: { group: `drift-${config.stack}`, "cancel-in-progress": false },
      jobs: {
        drift: {
          name: `Drift ${config.stack}`,
          "runs-on": runner,
          environment: { name: driftEnvironment(config.stack) },
          permissions: previewPermissions,
          "timeout-minutes": previewMinutes,
          steps: [...previewSteps(config, backend, config.stack, "drift"), report],
        },
      },
    },
  };
}
