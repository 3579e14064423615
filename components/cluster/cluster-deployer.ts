// The pipeline's identity in the cluster: one Role whose rules are exactly what the pipeline's
// kubectl commands need (rulesFor, from the operation catalogue), bound in the service's namespace
// to either a ServiceAccount (clusterAuth token: the pipeline receives a kubeconfig) or the
// Kubernetes group the EKS access entry maps the deploy role to (clusterAuth eks: a namespaced
// RoleBinding, no EKS access policy; AWS EKS docs, "Grant IAM users access to Kubernetes with EKS
// access entries").
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { stringify } from "yaml";
import { rulesFor, type ClusterOperation } from "../shared/cluster-operations";

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

/** A kubeconfig with one cluster, one token user and one context in the namespace. */
export function tokenKubeconfig(args: { name: string; server: string; caData: string; namespace: string; token: string }): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: args.name, cluster: { server: args.server, "certificate-authority-data": args.caData } }],
    users: [{ name: args.name, user: { token: args.token } }],
    contexts: [{ name: args.name, context: { cluster: args.name, user: args.name, namespace: args.namespace } }],
    "current-context": args.name,
  });
}

/** The deployer's Role and RoleBinding, and its credentials (token) or group (eks). */
export class ClusterDeployer extends pulumi.ComponentResource {
  readonly role: k8s.rbac.v1.Role;
  readonly roleBinding: k8s.rbac.v1.RoleBinding;
  /** clusterAuth token: the ServiceAccount and its long-lived token Secret. */
  readonly serviceAccount?: k8s.core.v1.ServiceAccount;
  readonly tokenSecret?: k8s.core.v1.Secret;
  /** clusterAuth token: a kubeconfig for the pipeline, secret. */
  readonly kubeconfig?: pulumi.Output<string>;
  /** clusterAuth eks: the group the access entry must map the deploy role to. */
  readonly group?: string;

  constructor(name: string, args: ClusterDeployerArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything is registered: a throw inside async work is an unhandled rejection.
    if (args.operations.length === 0) throw new Error("ClusterDeployer: operations must name at least one operation");
    super("canary-pipeline:kubernetes:ClusterDeployer", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const objectName = `${args.appName}-deployer`;
    const labels = { "app.kubernetes.io/part-of": args.appName, "app.kubernetes.io/component": "deployer" };
    const metadata = { name: objectName, namespace: args.namespace, labels };

    this.role = new k8s.rbac.v1.Role(`${name}-role`, {
      metadata,
      rules: rulesFor(args.operations).map((r) => ({
        apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs],
        ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}),
      })),
    }, child);

    let subject: k8s.types.input.rbac.v1.Subject;
    if (args.clusterAuth === "token") {
      this.serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-service-account`, {
        metadata,
        // The pipeline talks to the API server from outside; no pod ever runs as this account.
        automountServiceAccountToken: false,
      }, child);
      // A long-lived token: Kubernetes 1.24+ creates none by itself. The token controller fills
      // `data.token`; the provider waits for it (pulumi-kubernetes#2048). The account must exist
      // first (pulumi-kubernetes#4396).
      this.tokenSecret = new k8s.core.v1.Secret(`${name}-token`, {
        // The account's name as its Output: the Secret waits for the account through the data.
        metadata: { ...metadata, name: `${objectName}-token`, annotations: { "kubernetes.io/service-account.name": this.serviceAccount.metadata.name } },
        type: "kubernetes.io/service-account-token",
      }, child);
      this.kubeconfig = pulumi.secret(pulumi.all([this.tokenSecret.data, args.namespace, args.clusterEndpoint, args.clusterCaData]).apply(([data, namespace, server, caData]) => {
        const encoded = data?.token;
        if (!encoded) throw new Error(`the token Secret ${objectName}-token has no token yet`);
        return tokenKubeconfig({ name: objectName, server, caData, namespace, token: Buffer.from(encoded, "base64").toString("utf8") });
      }));
      subject = { kind: "ServiceAccount", name: objectName, namespace: args.namespace };
    } else {
      this.group = args.eksGroup ?? defaultEksGroup(args.appName);
      subject = { kind: "Group", name: this.group, apiGroup: "rbac.authorization.k8s.io" };
    }

    this.roleBinding = new k8s.rbac.v1.RoleBinding(`${name}-role-binding`, {
      metadata,
      // The Role's name as its Output: the RBAC escalation check reads the Role, so binding it
      // first is refused without `bind`; the binding waits for it through the data.
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: this.role.metadata.name },
      subjects: [subject],
    }, child);

    this.registerOutputs({ kubeconfig: this.kubeconfig, group: this.group });
  }
}
