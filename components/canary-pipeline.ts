// The whole delivery path of one service, from one Args object: the AWS trust, the cluster side
// and the repository side. The building blocks it composes stay usable on their own.
//
// One source for each fact: the generated workflows decide who may assume each role (the subjects
// and workflow refs of their jobs) and what the deployer may do in the cluster (the Role derived
// from the operations their steps run).
import type * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { argsSettingNames, ConfigError, type InputProblem, type SettingNames } from "../config/errors";
import { parseStackConfig } from "../config/load";
import {
  clusterLocationKeys,
  secretSettings,
  type ClusterLocationKey,
  type SecretKey,
  type StackConfig,
} from "../config/schema";
import type { ServiceSettings } from "../config/settings";
import { CanaryCluster } from "./cluster/canary-cluster";
import type { ClientSideApplyProvider } from "./cluster/client-side-apply-provider";
import { localKubeconfigUser } from "./cluster/cluster-kubeconfig";
import { GithubOidcProvider } from "./aws/github-oidc-provider";
import { checkedInput, settingRule } from "./shared/checked-input";
import { optionsProvider } from "./shared/providers";
import { claimService, clusterIdentity } from "./shared/service-claims";
import { PipelineRoles } from "./aws/pipeline-roles";
import { RepositoryPipeline } from "./repository/repository-pipeline";
import { checkServiceSettings } from "./service-checks";
import { servicePlan } from "./service-plan";

interface CanaryPipelineCommonArgs {
  /**
   * Values of the optional secrets (ghcrPullToken, slackWebhook), each kept
   * secret end to end. Default: none, and each absent secret's feature is left out.
   */
  readonly secrets?: Partial<Record<SecretKey, pulumi.Input<string>>>;
  /**
   * The account's GitHub OIDC provider, shared by every service of the account (one provider per
   * account and URL). Default: the settings' oidcProviderArn, else this component creates one.
   */
  readonly oidcProviderArn?: pulumi.Input<string>;
  /** The kubeconfig Pulumi deploys the cluster side with, through a provider of the service's own. Default: derived from the settings (CanaryCluster's clusterKubeconfig), never the ambient one. */
  readonly kubeconfig?: pulumi.Input<string>;
  /**
   * The EKS cluster's name, when the program creates or looks up the cluster (an Output of it):
   * in place of the eksClusterName setting, checked by its rule once known. Default: the setting.
   */
  readonly eksClusterName?: pulumi.Input<string>;
  /** The API server's https:// URL, in place of the clusterEndpoint setting (clusterAuth token). Default: the setting. */
  readonly clusterEndpoint?: pulumi.Input<string>;
  /** The cluster CA, base64 PEM, in place of the clusterCaData setting (clusterAuth token). Default: the setting. */
  readonly clusterCaData?: pulumi.Input<string>;
  /**
   * The Kubernetes provider of the service's cluster, shared by the services deployed to it (each
   * provider resource is a plugin process of its own in `pulumi up`). Default: one of the
   * service's own, from kubeconfig.
   */
  readonly kubernetesProvider?: ClientSideApplyProvider;
  /**
   * The GitHub provider, shared by the services of one owner; it must write as githubOwner, with a
   * token that has the `repo` and `workflow` scopes. Default: one of the service's own, for githubOwner.
   */
  readonly githubProvider?: github.Provider;
}

/** A service from its raw settings, validated by the component before anything registers. */
export interface CanaryPipelineSettingsArgs extends CanaryPipelineCommonArgs {
  /** The service's settings (config/settings.ts documents each key and its default). Required. */
  readonly settings: ServiceSettings;
  /**
   * The environment's stack name: the default GitHub environment, the suffix of the preview role
   * variable, the commit messages. Default: the name of the Pulumi stack that runs the program.
   */
  readonly stack?: string;
  readonly config?: never;
  readonly settingNames?: never;
}

/** A service from settings already validated (loadStackConfig or parseStackConfig). */
export interface CanaryPipelineConfigArgs extends CanaryPipelineCommonArgs {
  /** The validated settings of the service's environment (config/schema.ts documents each). Required. */
  readonly config: StackConfig;
  /**
   * How errors name the settings of `config`: stackSettingNames when it is a stack's configuration
   * (index.ts passes it with loadStackConfig's result), so that a problem found here (the canary's
   * lifetime, the kubeconfig context) names the stack key. Default: the Args property path,
   * `CanaryPipeline <name>: config.<key>`.
   */
  readonly settingNames?: SettingNames;
  readonly settings?: never;
  readonly stack?: never;
}

/** One Args object declares a whole service: raw `settings`, or a validated `config`. */
export type CanaryPipelineArgs = CanaryPipelineSettingsArgs | CanaryPipelineConfigArgs;

/** The component a CanaryPipeline's errors name: `CanaryPipeline orders`. */
const holderOf = (name: string) => `CanaryPipeline ${name}`;

/**
 * How errors name the settings of `args`: raw settings by their Args path (`CanaryPipeline
 * orders: settings.replicas`); a validated config as its Args say (settingNames), by default by its
 * Args path too (`config.replicas`).
 */
export function canaryPipelineSettingNames(name: string, args: CanaryPipelineArgs): SettingNames {
  if (args.config !== undefined) return args.settingNames ?? argsSettingNames(holderOf(name), "config");
  return argsSettingNames(holderOf(name), "settings");
}

/**
 * The validated configuration of `args`, checked before anything registers, synchronously (a
 * throw inside an Output's apply would reach every resource that reads it): first the Args
 * themselves, then every setting at once (parseStackConfig), then the rules that need the
 * service's plan (components/service-checks.ts). The secrets passed turn their features on.
 * Throws ConfigError naming the service and each problem as the caller wrote it.
 */
export function canaryPipelineConfig(
  name: string,
  args: CanaryPipelineArgs,
  opts?: pulumi.ComponentResourceOptions,
): StackConfig {
  const names = canaryPipelineSettingNames(name, args);
  const problems: InputProblem[] = [];
  const fromOptions = optionsProvider(opts, "kubernetes");
  const kubernetesProvider = args.kubernetesProvider ?? fromOptions;
  if (args.kubeconfig !== undefined && kubernetesProvider !== undefined) {
    problems.push({
      propertyPath: "kubeconfig",
      reason: `is given with a kubernetes provider (${args.kubernetesProvider !== undefined ? "kubernetesProvider" : "in the resource options"}): give one of them (a kubeconfig only configures a provider of the service's own)`,
    });
  }
  if (args.kubernetesProvider !== undefined && fromOptions !== undefined && fromOptions !== args.kubernetesProvider) {
    problems.push({
      propertyPath: "kubernetesProvider",
      reason:
        "is another kubernetes provider than the one in the resource options (opts.provider, opts.providers or the parent's): give one of them",
    });
  } else if (
    kubernetesProvider !== undefined &&
    (kubernetesProvider as Partial<ClientSideApplyProvider>).serverSideApply !== false
  ) {
    problems.push({
      propertyPath: args.kubernetesProvider !== undefined ? "kubernetesProvider" : "opts.providers",
      reason:
        "must be a ClientSideApplyProvider (server-side apply off: the pipeline's `kubectl set image` owns the images): declare the kubernetes provider as new ClientSideApplyProvider(name, { kubeconfig })",
    });
  }
  const githubFromOptions = optionsProvider(opts, "github");
  if (
    args.githubProvider !== undefined &&
    githubFromOptions !== undefined &&
    githubFromOptions !== args.githubProvider
  ) {
    problems.push({
      propertyPath: "githubProvider",
      reason:
        "is another github provider than the one in the resource options (opts.provider, opts.providers or the parent's): give one of them",
    });
  }
  const given = new Set(clusterLocationKeys.filter((key) => args[key] !== undefined));
  for (const key of given) {
    if ((args.config ?? args.settings)[key] !== undefined)
      problems.push({ propertyPath: key, reason: `is given in ${names.path([key])} too: give it once` });
  }
  if (problems.length > 0) throw new ConfigError(problems, { holder: holderOf(name) });
  const secrets = Object.fromEntries(
    (Object.keys(secretSettings) as SecretKey[]).map((k) => [k, args.secrets?.[k] !== undefined]),
  ) as Record<SecretKey, boolean>;
  const config =
    args.config ?? parseStackConfig({ ...args.settings }, args.stack ?? pulumi.getStack(), secrets, given, names);
  checkServiceSettings(config, names);
  return config;
}

/**
 * Where the cluster is: each location setting from the Args (checked by the setting's rule once
 * known) or from the settings.
 */
function clusterLocation(
  name: string,
  args: CanaryPipelineArgs,
  config: StackConfig,
  component: () => pulumi.Resource | undefined,
): Partial<Record<ClusterLocationKey, pulumi.Input<string>>> {
  return Object.fromEntries(
    clusterLocationKeys.flatMap((key) => {
      const fromArgs = args[key];
      if (fromArgs !== undefined)
        return [
          [
            key,
            checkedInput(fromArgs, { holder: holderOf(name), propertyPath: key, problem: settingRule(key), component }),
          ],
        ];
      return config[key] === undefined ? [] : [[key, config[key]]];
    }),
  );
}

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
        maxSessionDuration: config.iamMaxSessionDuration,
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
