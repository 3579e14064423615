// What CanaryWorkload takes.
import * as pulumi from "@pulumi/pulumi";
import { ClientSideApplyProvider } from "./client-side-apply-provider";

/**
 * A source the NetworkPolicy admits on the container port: the pods of a namespace (all, or those
 * with the given labels), matched by the label the API server sets on every namespace,
 * `kubernetes.io/metadata.name`; or an address range (an ingress controller on the host network,
 * a load balancer that sends to pod IPs).
 */
export type IngressPeer =
  { readonly namespace: string; readonly podLabels?: Readonly<Record<string, string>> } | { readonly cidr: string };

export interface CanaryWorkloadArgs {
  /** The service's name: Deployments `${appName}` and `${appName}-canary`, container, Services, label `app`. Required. */
  readonly appName: string;
  /** The namespace of every object. Required. */
  readonly namespace: pulumi.Input<string>;
  /** The port the container listens on (named `http`). Required. */
  readonly containerPort: number;
  /** The HTTP path of the health endpoint, probed for start-up and readiness. Required. */
  readonly healthPath: string;
  /** The HTTP path the liveness probe requests. Default: healthPath. */
  readonly livenessPath?: string;
  /** Stable replicas. Required. */
  readonly replicas: number;
  /** The image of the first deployment; the pipeline owns the image afterwards. Required. */
  readonly initialImage: string;
  /** The image-pull Secret's name (none: public images). Default: none. */
  readonly imagePullSecret?: pulumi.Input<string>;
  /** Requests and limits of the container. Default: 100m/128Mi requested, 500m/256Mi limit. */
  readonly resources?: { requests: Record<string, string>; limits: Record<string, string> };
  /** Seconds a new pod must be ready before it counts as available. Default: 10. */
  readonly minReadySeconds?: number;
  /** The longest the container may take after starting to answer healthPath (startupProbe). Default: 60. */
  readonly startupSeconds?: number;
  /**
   * Who may connect to the container port besides the namespace's own pods (an empty list: those
   * only). Default: any source, on the container port only.
   */
  readonly networkPolicyIngress?: readonly IngressPeer[];
  /** The uid and gid the container runs as (not root). Default: 10001. */
  readonly runAsUser?: number;
  /** Size limit of the writable /tmp (the root filesystem is read-only). Default: 64Mi. */
  readonly tmpSizeLimit?: string;
  /**
   * The provider to declare the objects through; it must apply client-side (release ownership).
   * Default: a child ClientSideApplyProvider with the ambient kubeconfig.
   */
  readonly provider?: ClientSideApplyProvider;
}

/** The stable and canary Deployments of one service, their Services and their guards. */
