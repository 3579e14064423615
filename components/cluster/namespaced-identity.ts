// An identity confined to the service's namespace: one Role with exactly the given rules, bound to
// either a ServiceAccount with a long-lived token (clusterAuth token: its holder receives a
// kubeconfig) or the Kubernetes group an EKS access entry maps an IAM role to (clusterAuth eks: a
// namespaced RoleBinding, no EKS access policy; AWS EKS docs, "Grant IAM users access to
// Kubernetes with EKS access entries"), or a ServiceAccount that pods of the namespace run as, with
// no long-lived token (in-cluster: each pod that opts in mounts a bound token). The deployer, the
// preview's viewer and the canary reaper are three of them.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { stringify } from "yaml";
import type { PolicyRule } from "../shared/cluster-operations";

/** How the identity authenticates: a token ServiceAccount, or the group of an EKS access entry. */
export type IdentitySubject =
  | {
      readonly clusterAuth: "token";
      readonly clusterEndpoint: pulumi.Input<string>;
      readonly clusterCaData: pulumi.Input<string>;
      readonly contextName?: string;
    }
  | { readonly clusterAuth: "eks"; readonly group: string };

/** A ServiceAccount for the namespace's own pods: no token Secret, no kubeconfig. */
export interface InClusterSubject {
  readonly clusterAuth: "in-cluster";
}

export interface NamespacedIdentityArgs {
  /** The service's name (`app.kubernetes.io/part-of`). */
  readonly appName: string;
  /** The name of every object: Role, RoleBinding, ServiceAccount (`-token` for its Secret). */
  readonly objectName: string;
  /** Its `app.kubernetes.io/component` label. */
  readonly component: string;
  readonly namespace: pulumi.Input<string>;
  readonly rules: readonly PolicyRule[];
  /**
   * Rules on cluster-scoped objects, which a Role cannot grant: a ClusterRole and a
   * ClusterRoleBinding named `name` (unique in the cluster) grant them to the same subject.
   * Default: none.
   */
  readonly clusterRules?: { readonly name: string; readonly rules: readonly PolicyRule[] };
  readonly subject: IdentitySubject | InClusterSubject;
  readonly provider?: k8s.Provider;
}

/** A kubeconfig with one cluster, one token user and one context (default: named `name`) in the namespace. */
export function tokenKubeconfig(args: {
  name: string;
  server: string;
  caData: string;
  namespace: string;
  token: string;
  context?: string;
}): string {
  const context = args.context ?? args.name;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: args.name, cluster: { server: args.server, "certificate-authority-data": args.caData } }],
    users: [{ name: args.name, user: { token: args.token } }],
    contexts: [{ name: context, context: { cluster: args.name, user: args.name, namespace: args.namespace } }],
    "current-context": context,
  });
}

/** The Role and RoleBinding of one identity, and its credentials (token) or group (eks). */
export abstract class NamespacedIdentity extends pulumi.ComponentResource {
  readonly role: k8s.rbac.v1.Role;
  readonly roleBinding: k8s.rbac.v1.RoleBinding;
  /** With clusterRules: the ClusterRole and its binding. */
  readonly clusterRole?: k8s.rbac.v1.ClusterRole;
  readonly clusterRoleBinding?: k8s.rbac.v1.ClusterRoleBinding;
  /** clusterAuth token and in-cluster: the ServiceAccount; token: also its long-lived token Secret. */
  readonly serviceAccount?: k8s.core.v1.ServiceAccount;
  readonly tokenSecret?: k8s.core.v1.Secret;
  /** clusterAuth token: a kubeconfig for the identity's holder, secret. */
  readonly kubeconfig?: pulumi.Output<string>;
  /** clusterAuth eks: the group the access entry must map the IAM role to. */
  readonly group?: string;

  protected constructor(
    type: string,
    name: string,
    args: NamespacedIdentityArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super(type, name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const objectName = args.objectName;
    const labels = { "app.kubernetes.io/part-of": args.appName, "app.kubernetes.io/component": args.component };
    const metadata = { name: objectName, namespace: args.namespace, labels };

    const copy = (rules: readonly PolicyRule[]) =>
      rules.map((r) => ({
        apiGroups: [...r.apiGroups],
        resources: [...r.resources],
        verbs: [...r.verbs],
        ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}),
      }));
    this.role = new k8s.rbac.v1.Role(`${name}-role`, { metadata, rules: copy(args.rules) }, child);

    const auth = args.subject;
    const subject: k8s.types.input.rbac.v1.Subject =
      auth.clusterAuth === "eks"
        ? { kind: "Group", name: auth.group, apiGroup: "rbac.authorization.k8s.io" }
        : { kind: "ServiceAccount", name: objectName, namespace: args.namespace };
    if (auth.clusterAuth === "eks") {
      this.group = auth.group;
    } else {
      const serviceAccount = new k8s.core.v1.ServiceAccount(
        `${name}-service-account`,
        {
          metadata,
          // token: the holder talks to the API server from outside; no pod ever runs as this account.
          // in-cluster: only the pods that ask for it (automountServiceAccountToken in their spec) get a token.
          automountServiceAccountToken: false,
        },
        child,
      );
      this.serviceAccount = serviceAccount;
      if (auth.clusterAuth === "token") {
        // A long-lived token: Kubernetes 1.24+ creates none by itself. The token controller fills
        // `data.token`; the provider waits for it (pulumi-kubernetes#2048). The account must exist
        // first (pulumi-kubernetes#4396).
        this.tokenSecret = new k8s.core.v1.Secret(
          `${name}-token`,
          {
            // The account's name as its Output: the Secret waits for the account through the data.
            metadata: {
              ...metadata,
              name: `${objectName}-token`,
              annotations: { "kubernetes.io/service-account.name": serviceAccount.metadata.name },
            },
            type: "kubernetes.io/service-account-token",
          },
          child,
        );
        this.kubeconfig = pulumi.secret(
          pulumi
            .all([this.tokenSecret.data, args.namespace, auth.clusterEndpoint, auth.clusterCaData])
            .apply(([data, namespace, server, caData]) => {
              const encoded = data?.token;
              // A resource's failure, not the Args': the token controller has not filled the Secret.
              if (!encoded)
                throw new pulumi.ResourceError(
                  `the token Secret ${objectName}-token has no token yet: the cluster's token controller fills it; run again once it has`,
                  this,
                );
              return tokenKubeconfig({
                name: objectName,
                server,
                caData,
                namespace,
                token: Buffer.from(encoded, "base64").toString("utf8"),
                ...(auth.contextName !== undefined ? { context: auth.contextName } : {}),
              });
            }),
        );
      }
    }

    this.roleBinding = new k8s.rbac.v1.RoleBinding(
      `${name}-role-binding`,
      {
        metadata,
        // The Role's name as its Output: the RBAC escalation check reads the Role, so binding it
        // first is refused without `bind`; the binding waits for it through the data.
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: this.role.metadata.name },
        subjects: [subject],
      },
      child,
    );

    if (args.clusterRules) {
      const clusterMetadata = { name: args.clusterRules.name, labels };
      this.clusterRole = new k8s.rbac.v1.ClusterRole(
        `${name}-cluster-role`,
        { metadata: clusterMetadata, rules: copy(args.clusterRules.rules) },
        child,
      );
      this.clusterRoleBinding = new k8s.rbac.v1.ClusterRoleBinding(
        `${name}-cluster-role-binding`,
        {
          metadata: clusterMetadata,
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: this.clusterRole.metadata.name },
          subjects: [subject],
        },
        child,
      );
    }

    this.registerOutputs({ kubeconfig: this.kubeconfig, group: this.group });
  }
}
