// What CanaryCluster takes, and what it derives from its settings before anything registers: the
// kubeconfig of its own provider, the smoke test `pulumi up` runs, the deployer's operations.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { argsSettingNames, ConfigError, type InputProblem } from "../../config/errors";
import { optionsProvider } from "../shared/providers";
import { stackSettingNames, type SettingNames } from "../../config/errors";
import type { StackConfig } from "../../config/schema";
import { ClientSideApplyProvider } from "./client-side-apply-provider";
import { eksKubeconfig, localKubeconfigUser, tokenModeKubeconfig } from "./cluster-kubeconfig";
import { clusterTargets, operationList, type ClusterOperation } from "../shared/cluster-operations";
import { smokeTestOperations, type SmokeTestSpec } from "../shared/smoke-test";
import type { RolloutPlan } from "../shared/argo-rollout";

export interface CanaryClusterArgs {
  /** The validated settings (appName, namespace, createNamespace, workload and smoke settings, clusterAuth). Required. */
  readonly config: StackConfig;
  /**
   * How errors name the settings of `config` (CanaryPipeline passes its own: `settings.<key>`, or
   * the stack's keys). Default: this component's Args path, `CanaryCluster <name>: config.<key>`.
   */
  readonly settingNames?: SettingNames;
  /** The operations the generated workflows run; the deployer Role grants exactly what they need. Required. */
  readonly operations: readonly ClusterOperation[];
  /** canaryEngine argo-rollouts: the Rollout's plan (the deploy plan's, whose step indexes the workflow waits on). Default: rolloutPlan(config). */
  readonly rolloutPlan?: RolloutPlan;
  /** The ghcrPullToken secret (absent: public images, no pull Secret). Default: none. */
  readonly ghcrPullToken?: pulumi.Input<string>;
  /** The login sent with that token. Default: config.githubOwner (GHCR identifies the account by the token). */
  readonly ghcrUsername?: string;
  /** clusterAuth eks: the group the access entry maps the deploy role to. Default: `${appName}-deployers`. */
  readonly eksGroup?: string;
  /**
   * The operations the deploy workflow's rollback job runs (rollbackOperations): when given, the
   * rollback identity is declared, its Role granting exactly what they need. Default: none (no
   * rollback identity).
   */
  readonly rollbackOperations?: readonly ClusterOperation[];
  /** With rollbackOperations, clusterAuth eks: the group the rollback role's access entry maps to. Default: `${appName}-rollbackers`. */
  readonly rollbackGroup?: string;
  /**
   * The kubeconfig Pulumi itself deploys with (contents or path), for a provider of this
   * component's own. Default: derived from the settings (clusterKubeconfig): never the ambient one.
   */
  readonly kubeconfig?: pulumi.Input<string>;
  /**
   * The cluster's provider, shared by every service deployed to that cluster: in `pulumi up` each
   * provider resource is a plugin process of its own. `opts.providers` (or `opts.provider`) may
   * give it instead. Default: one of this component's own, from kubeconfig.
   */
  readonly provider?: ClientSideApplyProvider;
  /** clusterAuth eks: the cluster's name, when an Output of the program. Default: config.eksClusterName. */
  readonly eksClusterName?: pulumi.Input<string>;
  /** clusterAuth token: the API server's URL, when an Output of the program. Default: config.clusterEndpoint. */
  readonly clusterEndpoint?: pulumi.Input<string>;
  /** clusterAuth token: the cluster CA (base64 PEM), when an Output of the program. Default: config.clusterCaData. */
  readonly clusterCaData?: pulumi.Input<string>;
  /** Declare the read-only identity `pulumi preview` reads the live objects as (ClusterViewer). Default: false. */
  readonly preview?: boolean;
  /** clusterAuth eks: the group the preview role's access entry maps to. Default: `${appName}-previewers`. */
  readonly previewGroup?: string;
}

/**
 * The kubeconfig a provider of the component's own deploys with when none is given, from the
 * settings alone (components/cluster/cluster-kubeconfig.ts): eks, the cluster's lookup and an
 * `aws eks get-token` credential; token, clusterEndpoint and clusterCaData with the credential of
 * the machine's kubeconfigContext (or current context), read where the provider runs. The machine's
 * kubeconfig is checked at once: a missing or unknown context throws ConfigError naming kubeconfigContext
 * as `names` name the settings (default: the stack's key).
 */
export function clusterKubeconfig(
  parent: pulumi.Resource,
  config: StackConfig,
  location: {
    eksClusterName?: pulumi.Input<string>;
    clusterEndpoint?: pulumi.Input<string>;
    clusterCaData?: pulumi.Input<string>;
  },
  names: SettingNames = stackSettingNames,
): pulumi.Output<string> {
  if (config.clusterAuth === "token") {
    localKubeconfigUser(config.kubeconfigContext, undefined, undefined, names);
    return pulumi
      .all([location.clusterEndpoint!, location.clusterCaData!])
      .apply(([server, caData]) => tokenModeKubeconfig({ server, caData }, config.kubeconfigContext));
  }
  const region = config.awsRegion!;
  const cluster = aws.eks.getClusterOutput({ name: location.eksClusterName!, region }, { parent });
  // EKS always answers with both; a consumer's unit test may mock the lookup without them.
  return pulumi
    .all([cluster.name, cluster.endpoint, cluster.certificateAuthorities])
    .apply(([name, endpoint, cas]) =>
      eksKubeconfig({ name, region, endpoint, caData: (cas as typeof cas | undefined)?.[0]?.data ?? "" }),
    );
}

/**
 * The smoke test `pulumi up` runs. At rest the canary has no pods, so its Service has no endpoints
 * and every request through it would fail: it requests the main Service only.
 */
export function restingSmokeTestSpec(config: StackConfig): SmokeTestSpec {
  const targets = clusterTargets(config);
  return {
    targets,
    podName: targets.upSmokeTestPod,
    through: ["main"],
    appName: config.appName,
    paths: config.smokePaths,
    requestsPerPath: config.smokeRequests,
    maxLatencySeconds: config.smokeMaxLatencySeconds,
  };
}

/**
 * What the deployer's Role grants: the pipeline's operations and, in token mode, the smoke test
 * `pulumi up` runs as the deployer (eks mode runs it with the stack's own credentials).
 */
export function deployerOperations(
  config: StackConfig,
  pipelineOperations: readonly ClusterOperation[],
): ClusterOperation[] {
  const smokeAsDeployer = config.smokeTestOnUp && config.clusterAuth === "token";
  return smokeAsDeployer
    ? [...pipelineOperations, ...operationList(smokeTestOperations(restingSmokeTestSpec(config)))]
    : [...pipelineOperations];
}

/**
 * CanaryCluster's checks of its Args before anything registers (every problem at once), and what
 * they resolve: the names its reader wrote, the provider given in the options, where the cluster is.
 */
export function checkCanaryClusterArgs(name: string, args: CanaryClusterArgs, opts?: pulumi.ComponentResourceOptions) {
  const c = args.config;
  const holder = `CanaryCluster ${name}`;
  const names = args.settingNames ?? argsSettingNames(holder, "config");
  // Checked before anything is registered: an error inside async work would reach every
  // resource that reads the value.
  const clusterEndpoint = args.clusterEndpoint ?? c.clusterEndpoint;
  const clusterCaData = args.clusterCaData ?? c.clusterCaData;
  const eksClusterName = args.eksClusterName ?? c.eksClusterName;
  const problems: InputProblem[] = [];
  if (c.clusterAuth === "token") {
    for (const [key, value] of [
      ["clusterEndpoint", clusterEndpoint],
      ["clusterCaData", clusterCaData],
    ] as const) {
      if (!value)
        problems.push({
          propertyPath: key,
          reason: `is required with clusterAuth token: give it here or as ${names.path([key])}`,
        });
    }
  }
  const optionsKubernetes = optionsProvider(opts, "kubernetes");
  if (args.kubeconfig !== undefined && (args.provider ?? optionsKubernetes) !== undefined) {
    problems.push({
      propertyPath: "kubeconfig",
      reason: `is given with a kubernetes provider (${args.provider !== undefined ? "provider" : "in the resource options"}): give one of them (a kubeconfig only configures a provider of the component's own)`,
    });
  }
  if (problems.length > 0) throw new ConfigError(problems, { holder });
  return { holder, names, optionsKubernetes, location: { eksClusterName, clusterEndpoint, clusterCaData } };
}
