// The cluster side of the delivery path, from the stack's settings: the namespace, the deployer
// identity, the image-pull Secret, the workload and the smoke test after `pulumi up`, all declared
// through one client-side-apply provider (docs/cluster.md, "Release ownership").
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../../config/schema";
import { AppNamespace } from "./app-namespace";
import { canarySplit } from "../shared/canary-split";
import { CanaryWorkload } from "./canary-workload";
import { checkedInput } from "../shared/checked-input";
import { ClientSideApplyProvider, clusterProvider, kubeconfigProblem } from "./client-side-apply-provider";
import { ClusterDeployer } from "./cluster-deployer";
import { clusterTargets, type ClusterOperation } from "../shared/cluster-operations";
import { ImagePullSecret } from "./image-pull-secret";
import { PostDeploySmokeTest } from "./post-deploy-smoke-test";
import type { SmokeTestSpec } from "../shared/smoke-test";

export interface CanaryClusterArgs {
  /** The validated settings (appName, namespace, createNamespace, workload and smoke settings, clusterAuth). Required. */
  readonly config: StackConfig;
  /** The operations the generated workflows run; the deployer Role grants exactly what they need. Required. */
  readonly operations: readonly ClusterOperation[];
  /** The ghcrPullToken secret (absent: public images, no pull Secret). Default: none. */
  readonly ghcrPullToken?: pulumi.Input<string>;
  /** The login sent with that token. Default: config.githubOwner (GHCR identifies the account by the token). */
  readonly ghcrUsername?: string;
  /** clusterAuth eks: the group the access entry maps the deploy role to. Default: `${appName}-deployers`. */
  readonly eksGroup?: string;
  /**
   * The kubeconfig Pulumi itself deploys with (contents or path), for a provider of this
   * component's own. Default: the ambient one.
   */
  readonly kubeconfig?: pulumi.Input<string>;
  /**
   * The cluster's provider, shared by every service deployed to that cluster: in `pulumi up` each
   * provider resource is a plugin process of its own. `opts.providers` (or `opts.provider`) may
   * give it instead. Default: one of this component's own, from kubeconfig.
   */
  readonly provider?: ClientSideApplyProvider;
  /** clusterAuth token: the API server's URL, when an Output of the program. Default: config.clusterEndpoint. */
  readonly clusterEndpoint?: pulumi.Input<string>;
  /** clusterAuth token: the cluster CA (base64 PEM), when an Output of the program. Default: config.clusterCaData. */
  readonly clusterCaData?: pulumi.Input<string>;
}

/**
 * The smoke test `pulumi up` runs. At rest the canary has no pods, so its Service has no endpoints
 * and every request through it would fail: it requests the main Service only.
 */
export function restingSmokeTestSpec(config: StackConfig): SmokeTestSpec {
  return {
    targets: clusterTargets(config),
    through: ["main"],
    appName: config.appName,
    paths: config.smokePaths,
    maxLatencySeconds: config.smokeMaxLatencySeconds,
  };
}

/** Everything of the service inside the cluster. */
export class CanaryCluster extends pulumi.ComponentResource {
  readonly provider: ClientSideApplyProvider;
  readonly namespace?: AppNamespace;
  readonly deployer: ClusterDeployer;
  readonly imagePullSecret?: ImagePullSecret;
  readonly workload: CanaryWorkload;
  readonly smokeTest?: PostDeploySmokeTest;
  /** The namespace's name (an Output of the Namespace when this component creates it). */
  readonly namespaceName: pulumi.Output<string>;
  /** clusterAuth token: the deployer's kubeconfig, secret. */
  readonly kubeconfig?: pulumi.Output<string>;
  /** clusterAuth eks: the Kubernetes group the access entry must map the deploy role to. */
  readonly deployerGroup?: string;
  /** Canary pods during a release: canarySplit(replicas, canaryWeight). */
  readonly canaryReplicas: number;

  constructor(name: string, args: CanaryClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    const c = args.config;
    // Checked before anything is registered: an error inside async work is an unhandled rejection.
    const clusterEndpoint = args.clusterEndpoint ?? c.clusterEndpoint;
    const clusterCaData = args.clusterCaData ?? c.clusterCaData;
    if (c.clusterAuth === "token" && (!clusterEndpoint || !clusterCaData)) {
      throw new Error("CanaryCluster: clusterAuth token needs clusterEndpoint and clusterCaData");
    }
    if (args.provider !== undefined && args.kubeconfig !== undefined) {
      throw new Error("CanaryCluster: give provider or kubeconfig, not both (a kubeconfig only configures a provider of the component's own)");
    }
    super("canary-pipeline:kubernetes:CanaryCluster", name, {}, opts);
    this.canaryReplicas = canarySplit(c.replicas, c.canaryWeight).canaryReplicas;

    if (args.kubeconfig !== undefined && this.getProvider("kubernetes::") !== undefined) {
      throw new Error(`CanaryCluster ${name}: give a kubernetes provider in the options or a kubeconfig, not both (a kubeconfig only configures a provider of the component's own)`);
    }
    this.provider = clusterProvider(this, args.provider, `CanaryCluster ${name}`, () =>
      new ClientSideApplyProvider(`${name}-kubernetes`, args.kubeconfig !== undefined
        ? { kubeconfig: checkedInput(args.kubeconfig, `CanaryCluster ${name}: kubeconfig`, kubeconfigProblem, true) }
        : {}, { parent: this }));
    const child = { parent: this };
    const provider = this.provider;

    if (c.createNamespace) {
      this.namespace = new AppNamespace(`${name}-namespace`, { name: c.namespace, appName: c.appName, provider }, child);
    }
    // Through the Namespace's output, everything inside waits for it.
    const namespace = this.namespace?.name ?? pulumi.output(c.namespace);
    this.namespaceName = namespace;

    const common = { appName: c.appName, namespace, operations: args.operations, provider };
    this.deployer = new ClusterDeployer(`${name}-deployer`, c.clusterAuth === "token"
      ? { ...common, clusterAuth: "token", clusterEndpoint: clusterEndpoint!, clusterCaData: clusterCaData! }
      : { ...common, clusterAuth: "eks", ...(args.eksGroup !== undefined ? { eksGroup: args.eksGroup } : {}) }, child);
    this.kubeconfig = this.deployer.kubeconfig;
    this.deployerGroup = this.deployer.group;

    if (args.ghcrPullToken !== undefined) {
      this.imagePullSecret = new ImagePullSecret(`${name}-ghcr-pull`, {
        name: `${c.appName}-ghcr-pull`, namespace, appName: c.appName,
        username: args.ghcrUsername ?? c.githubOwner, token: args.ghcrPullToken, provider,
      }, child);
    }

    this.workload = new CanaryWorkload(`${name}-workload`, {
      appName: c.appName, namespace, containerPort: c.containerPort, healthPath: c.healthPath,
      replicas: c.replicas, initialImage: c.initialImage, provider,
      ...(this.imagePullSecret ? { imagePullSecret: this.imagePullSecret.secretName } : {}),
    }, child);

    if (c.smokeTestOnUp) {
      const w = this.workload;
      this.smokeTest = new PostDeploySmokeTest(`${name}-smoke-test`, {
        spec: restingSmokeTestSpec(c),
        triggers: [w.stable.spec, w.canary.spec, w.mainService.spec, w.canaryService.spec],
        dependsOn: [w.stable, w.canary, w.mainService, w.canaryService],
      }, child);
    }

    this.registerOutputs({
      namespace: this.namespaceName,
      kubeconfig: this.kubeconfig,
      deployerGroup: this.deployerGroup,
      canaryReplicas: this.canaryReplicas,
    });
  }
}
