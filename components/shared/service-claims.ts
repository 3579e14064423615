// One service per app name and namespace on a cluster. Two would declare the same Deployments,
// Services, Roles and admission policy: the second would fail on the first's objects, or take them
// over. Likewise one creator per namespace (createNamespace). A program may declare several
// services (CanaryPipeline, CanaryCluster), so each claims its place when it is declared, before
// it registers anything, and a second claim is refused, naming both. Claims last for one program
// run (one root stack).
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, type SettingNames } from "../../config/errors";

/** A cluster as a program reaches it. */
export interface ClusterIdentity {
  /** Equal (===) for the same cluster: a provider or an Output by identity, a name or URL as text. */
  readonly key: unknown;
  /** How the message names it: `the EKS cluster acme-dev in eu-west-1`. */
  readonly label: string;
}

/** Where a service runs. */
export interface ServicePlace {
  readonly cluster: ClusterIdentity;
  readonly namespace: string;
  readonly appName: string;
  /** The service creates the namespace (createNamespace). */
  readonly createsNamespace: boolean;
}

/** A claim of a place; `owner`: the component that claimed it, once constructed. */
export interface ServiceClaim {
  readonly place: ServicePlace;
  readonly names: SettingNames;
  owner?: pulumi.Resource;
}

const claimsByProgram = new WeakMap<object, ServiceClaim[]>();
/** Components declared outside a stack program (no root stack) share one set of claims. */
const outsideAnyProgram = {};

/**
 * The cluster a service deploys through: the Kubernetes provider it is given (one per cluster in
 * a program), else the kubeconfig it is given, else the location of its settings.
 */
export function clusterIdentity(
  given: { provider?: pulumi.ProviderResource; kubeconfig?: pulumi.Input<string> },
  location: {
    clusterAuth: "eks" | "token";
    awsRegion?: string;
    eksClusterName?: pulumi.Input<string>;
    clusterEndpoint?: pulumi.Input<string>;
  },
): ClusterIdentity {
  if (given.provider !== undefined) return { key: given.provider, label: "the same Kubernetes provider" };
  if (given.kubeconfig !== undefined) return { key: given.kubeconfig, label: "the same kubeconfig" };
  if (location.clusterAuth === "eks") {
    const name = location.eksClusterName;
    return typeof name === "string"
      ? {
          key: `eks ${location.awsRegion ?? ""} ${name}`,
          label: `the EKS cluster ${name} in ${location.awsRegion ?? "its region"}`,
        }
      : { key: name, label: "the same EKS cluster (one eksClusterName Output)" };
  }
  const endpoint = location.clusterEndpoint;
  return typeof endpoint === "string"
    ? { key: `token ${endpoint}`, label: `the cluster at ${endpoint}` }
    : { key: endpoint, label: "the same cluster (one clusterEndpoint Output)" };
}

/**
 * Claims `place` for the service whose settings `names` name. A component declared by the one
 * that claimed for it (CanaryPipeline's CanaryCluster: `parent` is the claim's owner) shares that
 * claim. Throws ConfigError naming both services when another holds the place.
 */
export function claimService(place: ServicePlace, names: SettingNames, parent?: pulumi.Resource): ServiceClaim {
  const program = pulumi.runtime.getStackResource() ?? outsideAnyProgram;
  const claims = claimsByProgram.get(program) ?? [];
  claimsByProgram.set(program, claims);
  const own = parent !== undefined ? claims.find((c) => c.owner === parent) : undefined;
  if (own !== undefined) return own;
  const sameNamespace = claims.filter(
    (c) => c.place.namespace === place.namespace && c.place.cluster.key === place.cluster.key,
  );
  const whose = (other: ServiceClaim, key: string) =>
    `${other.names.holder !== undefined ? `${other.names.holder}'s` : "the stack's"} (${other.names.path([key])})`;
  const other = sameNamespace.find((c) => c.place.appName === place.appName);
  if (other !== undefined) {
    throw new ConfigError(
      [
        {
          propertyPath: names.path(["appName"]),
          reason:
            `${JSON.stringify(place.appName)} in namespace ${place.namespace} on ${place.cluster.label} is already the service of ${whose(other, "appName")}: ` +
            `the two would declare the same Deployments, Services and Roles; give one of them another ${names.key("appName")} or ${names.key("namespace")}`,
        },
      ],
      names.holder !== undefined ? { holder: names.holder } : {},
    );
  }
  const creator = place.createsNamespace ? sameNamespace.find((c) => c.place.createsNamespace) : undefined;
  if (creator !== undefined) {
    throw new ConfigError(
      [
        {
          propertyPath: names.path(["createNamespace"]),
          reason: `true, but namespace ${place.namespace} on ${place.cluster.label} is created by ${whose(creator, "createNamespace")} already: set it false for all services of the namespace but one`,
        },
      ],
      names.holder !== undefined ? { holder: names.holder } : {},
    );
  }
  const claim: ServiceClaim = { place, names };
  claims.push(claim);
  return claim;
}
