// The pipeline's identity in the cluster: one Role whose rules are exactly what the pipeline's
// kubectl commands need (rulesFor, from the operation catalogue), bound in the service's namespace
// to either a ServiceAccount (clusterAuth token: the pipeline receives a kubeconfig) or the
// Kubernetes group the EKS access entry maps the deploy role to (clusterAuth eks), as every
// NamespacedIdentity is.
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { type ClusterOperation } from "../shared/cluster-operations";
import { rulesFor } from "../shared/rbac-rules";
import { NamespacedIdentity } from "./namespaced-identity";
import { refuseArgs } from "../../config/errors";

interface DeployerCommon {
  /** The service's name: objects are named `${appName}-deployer`. Required. */
  readonly appName: string;
  /** The namespace the Role grants access in. Required. */
  readonly namespace: pulumi.Input<string>;
  /** The operations the pipeline performs; the Role grants exactly what they need. Required. */
  readonly operations: readonly ClusterOperation[];
  /** The provider to declare the objects through (default: the parent's). */
  readonly provider?: k8s.Provider;
}

/** clusterAuth token: a ServiceAccount whose token the pipeline uses through a kubeconfig. */
export interface TokenDeployerArgs extends DeployerCommon {
  /** The pipeline authenticates with this ServiceAccount's token. Required. */
  readonly clusterAuth: "token";
  /** The API server's https:// URL. Required. */
  readonly clusterEndpoint: pulumi.Input<string>;
  /** The cluster CA certificate, base64-encoded PEM. Required. */
  readonly clusterCaData: pulumi.Input<string>;
}

/** clusterAuth eks: the group the deploy role's EKS access entry maps to. */
export interface EksDeployerArgs extends DeployerCommon {
  /** The pipeline authenticates as the EKS deploy role, mapped to a group. Required. */
  readonly clusterAuth: "eks";
  /** The Kubernetes group of the access entry. Default: `${appName}-deployers`. */
  readonly eksGroup?: string;
}

export type ClusterDeployerArgs = TokenDeployerArgs | EksDeployerArgs;

/** The default Kubernetes group the AWS side's access entry maps the deploy role to. */
export const defaultEksGroup = (appName: string) => `${appName}-deployers`;

/** The deployer's Role and RoleBinding, and its credentials (token) or group (eks). */
export class ClusterDeployer extends NamespacedIdentity {
  constructor(name: string, args: ClusterDeployerArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything is registered: a throw inside async work would reach every resource that reads the value.
    if (args.operations.length === 0)
      refuseArgs(`ClusterDeployer ${name}`, [
        { propertyPath: "operations", reason: "must name at least one operation" },
      ]);
    super(
      "canary-pipeline:kubernetes:ClusterDeployer",
      name,
      {
        appName: args.appName,
        objectName: `${args.appName}-deployer`,
        component: "deployer",
        namespace: args.namespace,
        rules: rulesFor(args.operations),
        subject:
          args.clusterAuth === "token"
            ? { clusterAuth: "token", clusterEndpoint: args.clusterEndpoint, clusterCaData: args.clusterCaData }
            : { clusterAuth: "eks", group: args.eksGroup ?? defaultEksGroup(args.appName) },
        ...(args.provider ? { provider: args.provider } : {}),
      },
      opts,
    );
  }
}
