// The repository side of one environment: its GitHub environment (reviewers, deploy-branch
// policy), its rollback environment (no reviewers), the variables and secrets its deploy workflow
// reads, and the workflow files this stack commits. The role ARNs and the kubeconfig come in as Inputs from the AWS and cluster components.
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { givenProvider } from "../shared/providers";
import {
  hasRollbackJob,
  parseReviewer,
  validateRepositoryPipelineArgs,
  type RepositoryPipelineArgs,
} from "./repository-pipeline-args";
import { roleVariablesAssumedBy } from "./workflows/model";
import {
  awsRegionVariable,
  deployRoleVariable,
  driftEnvironment,
  eksClusterVariable,
  kubeconfigSecret,
  namespaceVariable,
  previewEnvironment,
  previewKubeconfigSecret,
  previewRoleVariable,
  rollbackEnvironment,
  rollbackKubeconfigSecret,
  rollbackRoleVariable,
  slackWebhookSecret,
} from "./workflows/names";
import { pipelineWorkflows } from "./workflows/pipeline";
import { renderWorkflow } from "./workflows/writer";

export {
  hasRollbackJob,
  parseReviewer,
  validateRepositoryPipelineArgs,
  type RepositoryPipelineArgs,
} from "./repository-pipeline-args";

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
    validateRepositoryPipelineArgs(args, name);
    const { config } = args;
    const repository = config.githubRepository;
    const workflows = (args.workflows ?? pipelineWorkflows(config)).filter((w) => w.commit !== false);
    // Pinned to the repository's owner: an ambient GITHUB_OWNER naming another account would
    // otherwise commit to, and look reviewers up in, that account.
    const provider =
      givenProvider(this, "github", args.provider, `RepositoryPipeline ${name}`) ??
      new github.Provider(`${name}-github`, { owner: config.githubOwner }, { parent: this });
    const child = { parent: this, provider };

    // Reviewers are numeric ids (`github_repository_environment` reviewers' `users` and `teams`).
    // A user is looked up by login through the provider (GET /users/{login}: public data, which
    // the preview and drift jobs' GITHUB_TOKEN reads too); a team carries its id in the setting
    // (`org/team-slug#id`), since that token cannot read the organisation's teams.
    const reviewers = config.requiredReviewers.map(parseReviewer);
    const users = reviewers.flatMap((r) =>
      r.kind === "user" ? [github.getUserOutput({ username: r.login }, child).id.apply(Number)] : [],
    );
    const teams = reviewers.flatMap((r) => (r.kind === "team" ? [r.id] : []));
    const gated = reviewers.length > 0;

    const environment = new github.RepositoryEnvironment(
      `${name}-environment`,
      {
        repository,
        environment: config.environment,
        ...(gated ? { reviewers: [{ users, teams }], preventSelfReview: true, canAdminsBypass: false } : {}),
        // The environment subject does not contain the ref (GitHub docs, "OpenID Connect"), so which
        // branch may deploy is decided here: a custom policy that admits the deploy branch only.
        deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
      },
      child,
    );
    const environmentName = environment.environment;
    const branchPolicy = new github.RepositoryEnvironmentDeploymentPolicy(
      `${name}-deploy-branch`,
      {
        repository,
        environment: environmentName,
        branchPattern: config.deployBranch,
      },
      child,
    );

    const variable = (key: string, variableName: string, value: pulumi.Input<string>) =>
      new github.ActionsEnvironmentVariable(
        `${name}-${key}`,
        { repository, environment: environmentName, variableName, value },
        child,
      );
    if (args.deployRoleArn !== undefined) variable("deploy-role-arn", deployRoleVariable, args.deployRoleArn);
    if (config.awsRegion !== undefined) variable("aws-region", awsRegionVariable, config.awsRegion);
    const eksClusterName = args.eksClusterName ?? config.eksClusterName;
    if (config.clusterAuth === "eks" && eksClusterName !== undefined)
      variable("eks-cluster-name", eksClusterVariable, eksClusterName);
    variable("namespace", namespaceVariable, config.namespace);

    const environmentSecret = (key: string, secretName: string, value: pulumi.Input<string>) =>
      new github.ActionsEnvironmentSecret(
        `${name}-${key}`,
        { repository, environment: environmentName, secretName, plaintextValue: pulumi.secret(value) },
        child,
      );
    if (config.clusterAuth === "token" && args.kubeconfig !== undefined)
      environmentSecret("kubeconfig", kubeconfigSecret, args.kubeconfig);
    // An environment secret rather than a repository one: every stack may configure its own
    // webhook, and two stacks writing one repository secret would overwrite (and on destroy,
    // delete) each other's. The canary job runs in the environment, so it reads it all the same.
    if (config.secrets.slackWebhook && args.slackWebhook !== undefined)
      environmentSecret("slack-webhook", slackWebhookSecret, args.slackWebhook);

    // The rollback job's environment: the deploy branch only, like the environment's, and no
    // reviewers, since a job in an environment with required reviewers waits for their approval
    // (GitHub docs, "Managing environments for deployment"), and a rollback must not. It holds
    // the rollback identity only, which may scale the canary to 0 and nothing else.
    const rollbackEnvironments: pulumi.Resource[] = [];
    if (hasRollbackJob(args.workflows ?? pipelineWorkflows(config), config.environment)) {
      const rollback = new github.RepositoryEnvironment(
        `${name}-rollback-environment`,
        {
          repository,
          environment: rollbackEnvironment(config.environment),
          deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
        },
        child,
      );
      const rollbackName = rollback.environment;
      this.rollbackEnvironment = rollbackName;
      rollbackEnvironments.push(
        rollback,
        new github.RepositoryEnvironmentDeploymentPolicy(
          `${name}-rollback-branch`,
          {
            repository,
            environment: rollbackName,
            branchPattern: config.deployBranch,
          },
          child,
        ),
      );
      const rollbackVariable = (key: string, variableName: string, value: pulumi.Input<string>) =>
        new github.ActionsEnvironmentVariable(
          `${name}-rollback-${key}`,
          { repository, environment: rollbackName, variableName, value },
          child,
        );
      const rollbackSecret = (key: string, secretName: string, value: pulumi.Input<string>) =>
        new github.ActionsEnvironmentSecret(
          `${name}-rollback-${key}`,
          { repository, environment: rollbackName, secretName, plaintextValue: pulumi.secret(value) },
          child,
        );
      if (config.clusterAuth === "eks") {
        rollbackVariable("role-arn", rollbackRoleVariable, args.rollbackRoleArn!);
        if (config.awsRegion !== undefined) rollbackVariable("aws-region", awsRegionVariable, config.awsRegion);
        if (eksClusterName !== undefined) rollbackVariable("eks-cluster-name", eksClusterVariable, eksClusterName);
      } else {
        rollbackSecret("kubeconfig", rollbackKubeconfigSecret, args.rollbackKubeconfig!);
      }
      // For a notice from the rollback job; the environment's own copy, as for the canary job.
      if (config.secrets.slackWebhook && args.slackWebhook !== undefined)
        rollbackSecret("slack-webhook", slackWebhookSecret, args.slackWebhook);
    }

    // Each stack names its own preview role variable; only one stack owns the preview workflow and its token.
    if (args.previewRoleArn !== undefined) {
      new github.ActionsVariable(
        `${name}-preview-role-arn`,
        {
          repository,
          variableName: previewRoleVariable(config.stack),
          value: args.previewRoleArn,
        },
        child,
      );
    }

    // The environments the workflows run this stack's preview identity in: the pull-request
    // preview, gated by the stack's reviewers since it runs the pull request's code, and open to
    // every ref (a pull request's, refs/pull/N/merge, is no branch a policy could name); the drift
    // check, open to the deploy branch only.
    const previewJobsEnvironments = new Set(
      (args.workflows ?? pipelineWorkflows(config))
        .flatMap((file) => Object.values(file.workflow.jobs))
        .filter((job) => roleVariablesAssumedBy(job).includes(previewRoleVariable(config.stack)))
        .flatMap((job) => (job.environment ? [job.environment.name] : [])),
    );
    const previewEnvironments: pulumi.Resource[] = [];
    for (const environmentOfPreview of [previewEnvironment(config.stack), driftEnvironment(config.stack)].filter((e) =>
      previewJobsEnvironments.has(e),
    )) {
      const drift = environmentOfPreview === driftEnvironment(config.stack);
      const key = drift ? "drift" : "preview";
      const created = new github.RepositoryEnvironment(
        `${name}-${key}-environment`,
        {
          repository,
          environment: environmentOfPreview,
          ...(!drift && gated
            ? { reviewers: [{ users, teams }], preventSelfReview: true, canAdminsBypass: false }
            : {}),
          ...(drift ? { deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true } } : {}),
        },
        child,
      );
      previewEnvironments.push(created);
      if (drift) this.driftEnvironment = created.environment;
      else this.previewEnvironment = created.environment;
      if (drift) {
        previewEnvironments.push(
          new github.RepositoryEnvironmentDeploymentPolicy(
            `${name}-drift-branch`,
            {
              repository,
              environment: created.environment,
              branchPattern: config.deployBranch,
            },
            child,
          ),
        );
      }
      if (args.previewKubeconfig !== undefined) {
        new github.ActionsEnvironmentSecret(
          `${name}-${key}-kubeconfig`,
          {
            repository,
            environment: created.environment,
            secretName: previewKubeconfigSecret,
            plaintextValue: pulumi.secret(args.previewKubeconfig),
          },
          child,
        );
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
      const resource = new github.RepositoryFile(
        `${name}-${file.path
          .split("/")
          .pop()!
          .replace(/\.ya?ml$/, "")}-workflow`,
        {
          repository,
          branch: config.deployBranch,
          file: file.path,
          content: renderWorkflow(file, { project: pulumi.getProject(), stack: config.stack }),
          // [skip ci]: changing a workflow is no release; the next push to the branch deploys.
          commitMessage: `ci: update ${file.path} from Pulumi stack ${config.stack} [skip ci]`,
          overwriteOnCreate: true,
        },
        { ...child, dependsOn: previous },
      );
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
