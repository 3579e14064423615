// What RepositoryPipeline takes, and the checks of it that run before any resource registers.
import type * as github from "@pulumi/github";
import type * as pulumi from "@pulumi/pulumi";
import { refuseArgs, type InputProblem } from "../../config/errors";
import type { StackConfig } from "../../config/schema";
import type { WorkflowFile } from "./workflows/model";
import { rollbackEnvironment } from "./workflows/names";
import { pipelineWorkflows } from "./workflows/pipeline";

export interface RepositoryPipelineArgs {
  /** The validated settings of the environment (config/schema.ts). Required. */
  readonly config: StackConfig;
  /**
   * The workflow files; each is committed unless it says `commit: false`. Default: this stack's
   * pipelineWorkflows(config).
   */
  readonly workflows?: readonly (WorkflowFile & { readonly commit?: boolean })[];
  /**
   * The GitHub provider to write through (or give it in `opts.providers`). Default: one for
   * githubOwner, with the token of the environment (GITHUB_TOKEN, which needs the `repo` and
   * `workflow` scopes).
   */
  readonly provider?: github.Provider;
  /** The EKS cluster's name the deploy jobs read (clusterAuth eks). Default: config.eksClusterName. */
  readonly eksClusterName?: pulumi.Input<string>;
  /** ARN of the role the deploy jobs assume (required with clusterAuth eks). */
  readonly deployRoleArn?: pulumi.Input<string>;
  /** ARN of this stack's preview role, assumed by its job in infra-preview.yml (none: this stack is not previewed). Default: none. */
  readonly previewRoleArn?: pulumi.Input<string>;
  /** The deployer's kubeconfig (required with clusterAuth token); stored as an environment secret. */
  readonly kubeconfig?: pulumi.Input<string>;
  /**
   * ARN of the role the rollback job assumes (required with clusterAuth eks when a workflow has a
   * job in the rollback environment); a variable of that environment. Default: none.
   */
  readonly rollbackRoleArn?: pulumi.Input<string>;
  /**
   * The rollback identity's kubeconfig (required with clusterAuth token when a workflow has a job in
   * the rollback environment); a secret of that environment. Default: none.
   */
  readonly rollbackKubeconfig?: pulumi.Input<string>;
  /** Slack incoming-webhook URL for rollback notices (absent: no notification). Default: none. */
  readonly slackWebhook?: pulumi.Input<string>;
  /**
   * clusterAuth token: a read-only kubeconfig of the namespace, for the previews and the drift
   * check of this stack; stored as a secret of their environments. Default: none.
   */
  readonly previewKubeconfig?: pulumi.Input<string>;
}

/**
 * A reviewer as configured (validated by the schema): a user login, or a team as
 * `org/team-slug#id` with its numeric id, which the environment's reviewers take as is (a team is
 * never looked up: the preview and drift jobs' GITHUB_TOKEN cannot read an organisation's teams).
 */
export function parseReviewer(
  reviewer: string,
): { kind: "user"; login: string } | { kind: "team"; org: string; slug: string; id: number } {
  const slash = reviewer.indexOf("/");
  if (slash === -1) return { kind: "user", login: reviewer };
  const [slug, id] = reviewer.slice(slash + 1).split("#");
  return { kind: "team", org: reviewer.slice(0, slash), slug, id: Number(id) };
}

/** Whether a job of the workflows runs in the environment's rollback environment (each deploy workflow's rollback job). */
export function hasRollbackJob(workflows: readonly WorkflowFile[], environment: string): boolean {
  return workflows.some((file) =>
    Object.values(file.workflow.jobs).some((job) => job.environment?.name === rollbackEnvironment(environment)),
  );
}

/**
 * Refuses inconsistent arguments before any resource is registered (a throw inside a component's
 * async work would surface as an unhandled rejection).
 */
export function validateRepositoryPipelineArgs(args: RepositoryPipelineArgs, name?: string): void {
  const { config } = args;
  const problems: InputProblem[] = [];
  const refuse = (propertyPath: string, reason: string) => problems.push({ propertyPath, reason });
  if (config.clusterAuth === "eks" && args.deployRoleArn === undefined)
    refuse("deployRoleArn", "is required with config.clusterAuth eks");
  if (config.clusterAuth === "token" && args.kubeconfig === undefined)
    refuse("kubeconfig", "is required with config.clusterAuth token");
  if (config.secrets.slackWebhook && args.slackWebhook === undefined)
    refuse("slackWebhook", "is required: config.secrets.slackWebhook says a webhook is configured");
  if (hasRollbackJob(args.workflows ?? pipelineWorkflows(config), config.environment)) {
    if (config.clusterAuth === "eks" && args.rollbackRoleArn === undefined)
      refuse("rollbackRoleArn", "is required with config.clusterAuth eks: the rollback job assumes it");
    if (config.clusterAuth === "token" && args.rollbackKubeconfig === undefined)
      refuse("rollbackKubeconfig", "is required with config.clusterAuth token: the rollback job reads it");
  }
  config.requiredReviewers.map(parseReviewer).forEach((reviewer, i) => {
    // GitHub teams belong to one organisation: only the repository owner's can review its deployments.
    if (reviewer.kind === "team" && reviewer.org.toLowerCase() !== config.githubOwner.toLowerCase()) {
      refuse(
        `config.requiredReviewers[${i}]`,
        `team ${reviewer.org}/${reviewer.slug} is not in ${config.githubOwner}, the repository's owner: name a team of ${config.githubOwner}`,
      );
    }
  });
  const paths = (args.workflows ?? []).map((w) => w.path);
  paths.forEach((path, i) => {
    if (!path.startsWith(".github/workflows/"))
      refuse(`workflows[${i}].path`, `${path} must live in .github/workflows/`);
    if (paths.indexOf(path) !== i)
      refuse(
        `workflows[${i}].path`,
        `${path} is also the path of workflows[${paths.indexOf(path)}]: give each workflow its own file`,
      );
  });
  refuseArgs(name !== undefined ? `RepositoryPipeline ${name}` : "RepositoryPipeline", problems);
}
