// What CanaryPipeline takes, and what it makes of it before anything registers: the validated
// settings (each problem named as its reader wrote it) and where the cluster is.
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
import type { ClientSideApplyProvider } from "./cluster/client-side-apply-provider";
import { checkedInput, settingRule } from "./shared/checked-input";
import { optionsProvider } from "./shared/providers";
import { checkServiceSettings } from "./service-checks";

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
export const holderOf = (name: string) => `CanaryPipeline ${name}`;

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
export function clusterLocation(
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
