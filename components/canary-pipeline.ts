// The whole delivery path of one service, from one Args object: the AWS trust, the cluster side
// and the repository side. The building blocks it composes stay usable on their own.
//
// One source for each fact: the generated workflows decide who may assume each role (the subjects
// and workflow refs of their jobs) and what the deployer may do in the cluster (the Role derived
// from the operations their steps run).
import * as pulumi from "@pulumi/pulumi";
import { CanaryCluster } from "./cluster/canary-cluster";
import { localKubeconfigUser } from "./cluster/cluster-kubeconfig";
import { GithubOidcProvider } from "./aws/github-oidc-provider";
import { checkedInput, settingRule } from "./shared/checked-input";
import { optionsProvider } from "./shared/providers";
import { claimService, clusterIdentity } from "./shared/service-claims";
import { PipelineRoles } from "./aws/pipeline-roles";
import { RepositoryPipeline } from "./repository/repository-pipeline";
import { servicePlan } from "./service-plan";
import {
  canaryPipelineConfig,
  canaryPipelineSettingNames,
  clusterLocation,
  holderOf,
  type CanaryPipelineArgs,
} from "./canary-pipeline-args";

export {
  canaryPipelineConfig,
  canaryPipelineSettingNames,
  type CanaryPipelineArgs,
  type CanaryPipelineConfigArgs,
  type CanaryPipelineSettingsArgs,
} from "./canary-pipeline-args";

export class CanaryPipeline extends pulumi.ComponentResource {
  /**
   * ARN of the account's GitHub OIDC provider the roles trust: the one this component created, or
   * the one it was given (Args or settings' oidcProviderArn). The stack that creates it hands this
   * value to every other stack of the account, as their oidcProviderArn.
   */
  readonly oidcProviderArn: pulumi.Output<string>;
  /** ARN of the deploy role (the canary and promote jobs); undefined with clusterAuth token, which has none. */
  readonly deployRoleArn?: pulumi.Output<string>;
  /** ARN of the rollback role (the rollback job); undefined with clusterAuth token, or when no committed job assumes it. */
  readonly rollbackRoleArn?: pulumi.Output<string>;
  /** ARN of the preview role (`pulumi preview` and the drift check of this stack); undefined when no committed workflow previews the stack. */
  readonly previewRoleArn?: pulumi.Output<string>;
  /** The GitHub environment the deploy jobs run in (the environment setting, by default the stack's name). */
  readonly environment: pulumi.Output<string>;
  /** The rollback job's GitHub environment, `<environment>-rollback`; undefined when the stack commits no rollback job. */
  readonly rollbackEnvironment?: pulumi.Output<string>;
  /** The GitHub environment of this stack's pull-request preview, `<stack>-preview`; undefined when no workflow previews it. */
  readonly previewEnvironment?: pulumi.Output<string>;
  /** The GitHub environment of this stack's drift check, `<stack>-drift`; undefined without one. */
  readonly driftEnvironment?: pulumi.Output<string>;
  /** The Kubernetes namespace of the service (an Output of the Namespace when the component creates it). */
  readonly namespace: pulumi.Output<string>;
  /** clusterAuth eks: the Kubernetes group the deploy role's access entry maps to, bound to the deployer Role; undefined with token. */
  readonly deployerGroup?: string;
  /** clusterAuth token: the deployer's ServiceAccount in the namespace, whose kubeconfig the environment holds; undefined with eks. */
  readonly deployerServiceAccount?: pulumi.Output<string>;
  /** clusterAuth eks, with a rollback job: the group the rollback role's access entry maps to (may only scale the canary); else undefined. */
  readonly rollbackerGroup?: string;
  /** clusterAuth token, with a rollback job: the rollback identity's ServiceAccount (may only scale the canary); else undefined. */
  readonly rollbackerServiceAccount?: pulumi.Output<string>;
  /** clusterAuth eks, with a preview: the read-only group the preview role's access entry maps to; else undefined. */
  readonly previewerGroup?: string;
  /** clusterAuth token, with a preview: the preview's read-only ServiceAccount; else undefined. */
  readonly previewerServiceAccount?: pulumi.Output<string>;
  /** The AWS side: the deploy, rollback and preview roles. */
  readonly roles: PipelineRoles;
  /** The cluster side: namespace, identities, workloads. */
  readonly cluster: CanaryCluster;
  /** The repository side: environments, variables, secrets, workflow files. */
  readonly repository: RepositoryPipeline;

  constructor(name: string, args: CanaryPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    // Everything is checked before this component registers: an error inside async work would
    // reach every resource that reads the value.
    const names = canaryPipelineSettingNames(name, args);
    const config = canaryPipelineConfig(name, args, opts);
    // An Output checked once known fails on this component, once it exists.
    const constructed: { component?: pulumi.Resource } = {};
    const component = () => constructed.component;
    const location = clusterLocation(name, args, config, component);
    const givenOidcProvider =
      args.oidcProviderArn !== undefined
        ? checkedInput(args.oidcProviderArn, {
            holder: holderOf(name),
            propertyPath: "oidcProviderArn",
            problem: settingRule("oidcProviderArn"),
            component,
          })
        : config.oidcProviderArn;
    const kubernetesProvider = args.kubernetesProvider ?? optionsProvider(opts, "kubernetes");
    // A token stack's own provider deploys as a user of this machine's kubeconfig: a missing
    // context throws ConfigError naming kubeconfigContext.
    if (config.clusterAuth === "token" && args.kubeconfig === undefined && kubernetesProvider === undefined) {
      localKubeconfigUser(config.kubeconfigContext, undefined, undefined, names);
    }
    // One service per app name and namespace on a cluster in this program.
    const claim = claimService(
      {
        cluster: clusterIdentity(
          { provider: kubernetesProvider, kubeconfig: args.kubeconfig },
          {
            clusterAuth: config.clusterAuth,
            awsRegion: config.awsRegion,
            eksClusterName: args.eksClusterName ?? config.eksClusterName,
            clusterEndpoint: args.clusterEndpoint ?? config.clusterEndpoint,
          },
        ),
        namespace: config.namespace,
        appName: config.appName,
        createsNamespace: config.createNamespace,
      },
      names,
    );
    super("canary-pipeline:index:CanaryPipeline", name, {}, opts);
    constructed.component = this;
    claim.owner = this;
    const secrets = args.secrets ?? {};
    const child = { parent: this };
    const plan = servicePlan(config, pulumi.getProject());
    const { deployer, rollbacker, previewer } = plan;

    // AWS: the roles admit exactly the jobs that assume them.
    this.oidcProviderArn =
      givenOidcProvider !== undefined
        ? pulumi.output(givenOidcProvider)
        : new GithubOidcProvider(`${name}-github-oidc`, { tags: plan.tags }, child).arn;
    this.roles = new PipelineRoles(
      `${name}-roles`,
      {
        oidcProviderArn: this.oidcProviderArn,
        ...(config.clusterAuth === "eks"
          ? { deployTrust: deployer.trust, eksClusterName: location.eksClusterName, kubernetesGroup: deployer.eksGroup }
          : {}),
        ...(rollbacker?.eksGroup !== undefined
          ? { rollbackTrust: rollbacker.trust, rollbackKubernetesGroup: rollbacker.eksGroup }
          : {}),
        ...(previewer !== undefined ? { previewTrust: previewer.trust } : {}),
        ...(previewer?.eksGroup !== undefined ? { previewKubernetesGroup: previewer.eksGroup } : {}),
        ...(previewer?.state !== undefined ? { previewState: previewer.state } : {}),
        region: config.awsRegion ?? "us-east-1",
        rolePath: config.iamRolePath,
        ...(config.iamPermissionsBoundary ? { permissionsBoundary: config.iamPermissionsBoundary } : {}),
        // Each role's session outlives the longest job that uses it (checkServiceSettings refuses a shorter setting).
        maxSessionDuration: config.iamMaxSessionDuration ?? plan.deploy.sessionSeconds.roles,
        tags: plan.tags,
      },
      child,
    );

    // Cluster: the deployer Role grants what the deploy workflow's operations need.
    this.cluster = new CanaryCluster(
      `${name}-cluster`,
      {
        config,
        settingNames: names,
        operations: deployer.operations,
        ...(plan.deploy.argo !== undefined ? { rolloutPlan: plan.deploy.argo.rollout } : {}),
        ...(secrets.ghcrPullToken !== undefined ? { ghcrPullToken: secrets.ghcrPullToken } : {}),
        ...(deployer.eksGroup !== undefined ? { eksGroup: deployer.eksGroup } : {}),
        ...(rollbacker !== undefined ? { rollbackOperations: rollbacker.operations } : {}),
        ...(rollbacker?.eksGroup !== undefined ? { rollbackGroup: rollbacker.eksGroup } : {}),
        ...(previewer !== undefined ? { preview: true } : {}),
        ...(previewer?.eksGroup !== undefined ? { previewGroup: previewer.eksGroup } : {}),
        ...(args.kubeconfig !== undefined ? { kubeconfig: args.kubeconfig } : {}),
        ...(args.kubernetesProvider !== undefined ? { provider: args.kubernetesProvider } : {}),
        ...(location.clusterEndpoint !== undefined ? { clusterEndpoint: location.clusterEndpoint } : {}),
        ...(location.clusterCaData !== undefined ? { clusterCaData: location.clusterCaData } : {}),
        ...(location.eksClusterName !== undefined ? { eksClusterName: location.eksClusterName } : {}),
      },
      child,
    );

    // Repository: environment, variables, secrets and the workflow files.
    this.repository = new RepositoryPipeline(
      `${name}-repository`,
      {
        config,
        workflows: plan.workflows,
        ...(location.eksClusterName !== undefined ? { eksClusterName: location.eksClusterName } : {}),
        ...(this.roles.previewRoleArn !== undefined ? { previewRoleArn: this.roles.previewRoleArn } : {}),
        ...(this.roles.deployRoleArn !== undefined ? { deployRoleArn: this.roles.deployRoleArn } : {}),
        ...(this.roles.rollbackRoleArn !== undefined ? { rollbackRoleArn: this.roles.rollbackRoleArn } : {}),
        ...(this.cluster.kubeconfig !== undefined ? { kubeconfig: this.cluster.kubeconfig } : {}),
        ...(this.cluster.rollbackKubeconfig !== undefined
          ? { rollbackKubeconfig: this.cluster.rollbackKubeconfig }
          : {}),
        ...(this.cluster.previewKubeconfig !== undefined ? { previewKubeconfig: this.cluster.previewKubeconfig } : {}),
        ...(secrets.slackWebhook !== undefined ? { slackWebhook: secrets.slackWebhook } : {}),
        ...(args.githubProvider !== undefined ? { provider: args.githubProvider } : {}),
      },
      child,
    );

    this.deployRoleArn = this.roles.deployRoleArn;
    this.rollbackRoleArn = this.roles.rollbackRoleArn;
    this.previewRoleArn = this.roles.previewRoleArn;
    this.environment = this.repository.environment;
    this.rollbackEnvironment = this.repository.rollbackEnvironment;
    this.previewEnvironment = this.repository.previewEnvironment;
    this.driftEnvironment = this.repository.driftEnvironment;
    this.namespace = this.cluster.namespaceName;
    this.deployerGroup = this.cluster.deployerGroup;
    this.deployerServiceAccount = this.cluster.deployer.serviceAccount?.metadata.name;
    this.rollbackerGroup = this.cluster.rollbackerGroup;
    this.rollbackerServiceAccount = this.cluster.rollbacker?.serviceAccount?.metadata.name;
    this.previewerGroup = this.cluster.previewerGroup;
    this.previewerServiceAccount = this.cluster.viewer?.serviceAccount?.metadata.name;
    this.registerOutputs({
      oidcProviderArn: this.oidcProviderArn,
      deployRoleArn: this.deployRoleArn,
      rollbackRoleArn: this.rollbackRoleArn,
      previewRoleArn: this.previewRoleArn,
      environment: this.environment,
      rollbackEnvironment: this.rollbackEnvironment,
      previewEnvironment: this.previewEnvironment,
      driftEnvironment: this.driftEnvironment,
      namespace: this.namespace,
      deployerGroup: this.deployerGroup,
      deployerServiceAccount: this.deployerServiceAccount,
      rollbackerGroup: this.rollbackerGroup,
      rollbackerServiceAccount: this.rollbackerServiceAccount,
      previewerGroup: this.previewerGroup,
      previewerServiceAccount: this.previewerServiceAccount,
    });
  }
}
