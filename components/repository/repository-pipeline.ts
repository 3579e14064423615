// The repository side of one environment: its GitHub environment (reviewers, deploy-branch
// policy), its rollback environment (no reviewers), the variables and secrets its deploy workflow
// reads, and the workflow files this stack commits. The role ARNs and the kubeconfig come in as Inputs from the AWS and cluster components.
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../../config/schema";
import { givenProvider } from "../shared/providers";
import { roleVariablesAssumedBy, type WorkflowFile } from "./workflows/model";
import {
  awsRegionVariable, deployRoleVariable, driftEnvironment, eksClusterVariable, kubeconfigSecret, namespaceVariable, previewEnvironment,
  previewKubeconfigSecret, previewRoleVariable, rollbackEnvironment, rollbackKubeconfigSecret, rollbackRoleVariable, slackWebhookSecret,
} from "./workflows/names";
import { pipelineWorkflows } from "./workflows/pipeline";
import { renderWorkflow } from "./workflows/writer";

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

/** A reviewer as configured: a user login, or `org/team-slug`. */
export function parseReviewer(reviewer: string): { kind: "user"; login: string } | { kind: "team"; org: string; slug: string } {
  const slash = reviewer.indexOf("/");
  return slash === -1 ? { kind: "user", login: reviewer } : { kind: "team", org: reviewer.slice(0, slash), slug: reviewer.slice(slash + 1) };
}

/** Whether a job of the workflows runs in the environment's rollback environment (each deploy workflow's rollback job). */
export function hasRollbackJob(workflows: readonly WorkflowFile[], environment: string): boolean {
  return workflows.some((file) => Object.values(file.workflow.jobs).some((job) => job.environment?.name === rollbackEnvironment(environment)));
}

/**
 * Refuses inconsistent arguments before any resource is registered (a throw inside a component's
 * async work would surface as an unhandled rejection).
 */
export function validateRepositoryPipelineArgs(args: RepositoryPipelineArgs): void {
  const { config } = args;
  const problems: string[] = [];
  if (config.clusterAuth === "eks" && args.deployRoleArn === undefined) problems.push("deployRoleArn is required with clusterAuth eks");
  if (config.clusterAuth === "token" && args.kubeconfig === undefined) problems.push("kubeconfig is required with clusterAuth token");
  if (config.secrets.slackWebhook && args.slackWebhook === undefined) problems.push("slackWebhook is configured but no value was passed");
  if (hasRollbackJob(args.workflows ?? pipelineWorkflows(config), config.environment)) {
    if (config.clusterAuth === "eks" && args.rollbackRoleArn === undefined) problems.push("rollbackRoleArn is required with clusterAuth eks: the rollback job assumes it");
    if (config.clusterAuth === "token" && args.rollbackKubeconfig === undefined) problems.push("rollbackKubeconfig is required with clusterAuth token: the rollback job reads it");
  }
  for (const reviewer of config.requiredReviewers.map(parseReviewer)) {
    // GitHub teams belong to one organisation: only the repository owner's can review its deployments.
    if (reviewer.kind === "team" && reviewer.org.toLowerCase() !== config.githubOwner.toLowerCase()) {
      problems.push(`reviewer team ${reviewer.org}/${reviewer.slug} is not in ${config.githubOwner}, the repository's owner`);
    }
  }
  const paths = (args.workflows ?? []).map((w) => w.path);
  for (const path of paths) if (!path.startsWith(".github/workflows/")) problems.push(`workflow ${path} must live in .github/workflows/`);
  if (new Set(paths).size !== paths.length) problems.push("two workflows share a path");
  if (problems.length > 0) throw new Error(`RepositoryPipeline: ${problems.join("; ")}`);
}

export class RepositoryPipeline extends pulumi.ComponentResource {
  /** The GitHub environment's name. */
  readonly environment: pulumi.Output<string>;
  /** The paths of the committed workflow files. */
  readonly workflowFiles: pulumi.Output<string[]>;
  /** The rollback job's environment, `<environment>-rollback`; undefined when no committed job runs there (no rollback job). */
  readonly rollbackEnvironment?: pulumi.Output<string>;
  /** The environment of the pull-request preview of this stack, `<stack>-preview`; undefined when no workflow previews it. */
  readonly previewEnvironment?: pulumi.Output<string>;
  /** The environment of the drift check of this stack, `<stack>-drift`; undefined without a drift workflow for it. */
  readonly driftEnvironment?: pulumi.Output<string>;

  constructor(name: string, args: RepositoryPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("canary-pipeline:github:RepositoryPipeline", name, {}, opts);
    validateRepositoryPipelineArgs(args);
    const { config } = args;
    const repository = config.githubRepository;
    const workflows = (args.workflows ?? pipelineWorkflows(config)).filter((w) => w.commit !== false);
    // Pinned to the repository's owner: an ambient GITHUB_OWNER naming another account would
    // otherwise commit to, and look reviewers up in, that account.
    const provider = givenProvider(this, "github", args.provider, `RepositoryPipeline ${name}`)
      ?? new github.Provider(`${name}-github`, { owner: config.githubOwner }, { parent: this });
    const child = { parent: this, provider };

    // Reviewers are numeric ids (`github_repository_environment` reviewers' `users` and `teams`);
    // resolved through the provider.
    const reviewers = config.requiredReviewers.map(parseReviewer);
    const users = reviewers.flatMap((r) => (r.kind === "user" ? [github.getUserOutput({ username: r.login }, child).id.apply(Number)] : []));
    const teams = reviewers.flatMap((r) => (r.kind === "team" ? [github.getTeamOutput({ slug: r.slug }, child).id.apply(Number)] : []));
    const gated = reviewers.length > 0;

    const environment = new github.RepositoryEnvironment(`${name}-environment`, {
      repository,
      environment: config.environment,
      ...(gated ? { reviewers: [{ users, teams }], preventSelfReview: true, canAdminsBypass: false } : {}),
      // The environment subject does not contain the ref (GitHub docs, "OpenID Connect"), so which
      // branch may deploy is decided here: a custom policy that admits the deploy branch only.
      deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
    }, child);
    const environmentName = environment.environment;
    const branchPolicy = new github.RepositoryEnvironmentDeploymentPolicy(`${name}-deploy-branch`, {
      repository,
      environment: environmentName,
      branchPattern: config.deployBranch,
    }, child);

    const variable = (key: string, variableName: string, value: pulumi.Input<string>) =>
      new github.ActionsEnvironmentVariable(`${name}-${key}`, { repository, environment: environmentName, variableName, value }, child);
    if (args.deployRoleArn !== undefined) variable("deploy-role-arn", deployRoleVariable, args.deployRoleArn);
    if (config.awsRegion !== undefined) variable("aws-region", awsRegionVariable, config.awsRegion);
    const eksClusterName = args.eksClusterName ?? config.eksClusterName;
    if (config.clusterAuth === "eks" && eksClusterName !== undefined) variable("eks-cluster-name", eksClusterVariable, eksClusterName);
    variable("namespace", namespaceVariable, config.namespace);

    const environmentSecret = (key: string, secretName: string, value: pulumi.Input<string>) =>
      new github.ActionsEnvironmentSecret(`${name}-${key}`, { repository, environment: environmentName, secretName, plaintextValue: pulumi.secret(value) }, child);
    if (config.clusterAuth === "token" && args.kubeconfig !== undefined) environmentSecret("kubeconfig", kubeconfigSecret, args.kubeconfig);
    // An environment secret rather than a repository one: every stack may configure its own
    // webhook, and two stacks writing one repository secret would overwrite (and on destroy,
    // delete) each other's. The canary job runs in the environment, so it reads it all the same.
    if (config.secrets.slackWebhook && args.slackWebhook !== undefined) environmentSecret("slack-webhook", slackWebhookSecret, args.slackWebhook);

    // The rollback job's environment: the deploy branch only, like the environment's, and no
    // reviewers, since a job in an environment with required reviewers waits for their approval
    // (GitHub docs, "Managing environments for deployment"), and a rollback must not. It holds
    // the rollback identity only, which may scale the canary to 0 and nothing else.
    const rollbackEnvironments: pulumi.Resource[] = [];
    if (hasRollbackJob(args.workflows ?? pipelineWorkflows(config), config.environment)) {
      const rollback = new github.RepositoryEnvironment(`${name}-rollback-environment`, {
        repository,
        environment: rollbackEnvironment(config.environment),
        deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
      }, child);
      const rollbackName = rollback.environment;
      this.rollbackEnvironment = rollbackName;
      rollbackEnvironments.push(rollback, new github.RepositoryEnvironmentDeploymentPolicy(`${name}-rollback-branch`, {
        repository, environment: rollbackName, branchPattern: config.deployBranch,
      }, child));
      const rollbackVariable = (key: string, variableName: string, value: pulumi.Input<string>) =>
        new github.ActionsEnvironmentVariable(`${name}-rollback-${key}`, { repository, environment: rollbackName, variableName, value }, child);
      const rollbackSecret = (key: string, secretName: string, value: pulumi.Input<string>) =>
        new github.ActionsEnvironmentSecret(`${name}-rollback-${key}`, { repository, environment: rollbackName, secretName, plaintextValue: pulumi.secret(value) }, child);
      if (config.clusterAuth === "eks") {
        rollbackVariable("role-arn", rollbackRoleVariable, args.rollbackRoleArn!);
        if (config.awsRegion !== undefined) rollbackVariable("aws-region", awsRegionVariable, config.awsRegion);
        if (eksClusterName !== undefined) rollbackVariable("eks-cluster-name", eksClusterVariable, eksClusterName);
      } else {
        rollbackSecret("kubeconfig", rollbackKubeconfigSecret, args.rollbackKubeconfig!);
      }
      // For a notice from the rollback job; the environment's own copy, as for the canary job.
      if (config.secrets.slackWebhook && args.slackWebhook !== undefined) rollbackSecret("slack-webhook", slackWebhookSecret, args.slackWebhook);
    }

    // Each stack names its own preview role variable; only one stack owns the preview workflow and its token.
    if (args.previewRoleArn !== undefined) {
      new github.ActionsVariable(`${name}-preview-role-arn`, {
        repository, variableName: previewRoleVariable(config.stack), value: args.previewRoleArn,
      }, child);
    }

    // The environments the workflows run this stack's preview identity in: the pull-request
    // preview, gated by the stack's reviewers since it runs the pull request's code, and open to
    // every ref (a pull request's, refs/pull/N/merge, is no branch a policy could name); the drift
    // check, open to the deploy branch only.
    const previewJobsEnvironments = new Set((args.workflows ?? pipelineWorkflows(config))
      .flatMap((file) => Object.values(file.workflow.jobs))
      .filter((job) => roleVariablesAssumedBy(job).includes(previewRoleVariable(config.stack)))
      .flatMap((job) => (job.environment ? [job.environment.name] : [])));
    const previewEnvironments: pulumi.Resource[] = [];
    for (const environmentOfPreview of [previewEnvironment(config.stack), driftEnvironment(config.stack)].filter((e) => previewJobsEnvironments.has(e))) {
      const drift = environmentOfPreview === driftEnvironment(config.stack);
      const key = drift ? "drift" : "preview";
      const created = new github.RepositoryEnvironment(`${name}-${key}-environment`, {
        repository,
        environment: environmentOfPreview,
        ...(!drift && gated ? { reviewers: [{ users, teams }], preventSelfReview: true, canAdminsBypass: false } : {}),
        ...(drift ? { deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true } } : {}),
      }, child);
      previewEnvironments.push(created);
      if (drift) this.driftEnvironment = created.environment; else this.previewEnvironment = created.environment;
      if (drift) {
        previewEnvironments.push(new github.RepositoryEnvironmentDeploymentPolicy(`${name}-drift-branch`, {
          repository, environment: created.environment, branchPattern: config.deployBranch,
        }, child));
      }
      if (args.previewKubeconfig !== undefined) {
        new github.ActionsEnvironmentSecret(`${name}-${key}-kubeconfig`, {
          repository, environment: created.environment, secretName: previewKubeconfigSecret, plaintextValue: pulumi.secret(args.previewKubeconfig),
        }, child);
      }
    }

    // One commit per file on the deploy branch. Parallel writes to one branch fail with 409
    // (integrations/terraform-provider-github#2909), so each file waits for the one before. The
    // first waits for the environment and its branch policy: a run naming an environment GitHub
    // does not know yet creates it, unprotected. The variables and secrets are written alongside,
    // not first (waiting for them chained the whole AWS and cluster side before the commits): the
    // commits carry [skip ci], and a run another push starts before they exist fails closed, for
    // want of a role ARN or kubeconfig. The provider's token needs the `workflow` scope here.
    let previous: pulumi.Resource[] = [environment, branchPolicy, ...rollbackEnvironments, ...previewEnvironments];
    const files = workflows.map((file) => {
      const resource = new github.RepositoryFile(`${name}-${file.path.split("/").pop()!.replace(/\.ya?ml$/, "")}-workflow`, {
        repository,
        branch: config.deployBranch,
        file: file.path,
        content: renderWorkflow(file, { project: pulumi.getProject(), stack: config.stack }),
        // [skip ci]: changing a workflow is no release; the next push to the branch deploys.
        commitMessage: `ci: update ${file.path} from Pulumi stack ${config.stack} [skip ci]`,
        overwriteOnCreate: true,
      }, { ...child, dependsOn: previous });
      previous = [resource];
      return resource;
    });

    this.environment = environmentName;
    this.workflowFiles = pulumi.all(files.map((f) => f.file));
    this.registerOutputs({
      environment: this.environment,
      workflowFiles: this.workflowFiles,
      rollbackEnvironment: this.rollbackEnvironment,
      previewEnvironment: this.previewEnvironment,
      driftEnvironment: this.driftEnvironment,
    });
  }
}
