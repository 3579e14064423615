// The identity `pulumi preview` reads the live objects as: a NamespacedIdentity whose Role may get
// exactly the stack's objects, by name, and list what their refresh lists
// (refreshOperations: derived from the objects the cluster components declare). No Secret: the
// preview excludes them (unreadableKinds). clusterAuth token: a ServiceAccount whose kubeconfig the
// preview workflow receives; clusterAuth eks: the group the preview role's access entry maps to.
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { clusterScopedKinds, refreshOperations, rulesFor, type DeclaredObject } from "../shared/rbac-rules";
import { NamespacedIdentity, type IdentitySubject } from "./namespaced-identity";
import { refuseArgs } from "../../config/errors";

/** The default Kubernetes group the AWS side's access entry maps the preview role to. */
export const defaultPreviewGroup = (appName: string) => `${appName}-previewers`;

export interface ClusterViewerArgs {
  /** The service's name: objects are named `${appName}-previewer`. Required. */
  readonly appName: string;
  /** The namespace the Role grants access in. Required. */
  readonly namespace: pulumi.Input<string>;
  /**
   * The objects the stack declares there (the Namespace included) and the cluster-scoped ones it
   * declares for the service (clusterScopedKinds: the deployer's admission policy); the Role
   * reads exactly the former, a ClusterRole exactly the latter. Required.
   */
  readonly objects: readonly DeclaredObject[];
  /** The namespace's plain name: the ClusterRole is `${appName}.${namespace}.previewer`. Required with cluster-scoped objects; default: none. */
  readonly namespaceName?: string;
  /** A token ServiceAccount, or the group of the preview role's access entry (default `${appName}-previewers`). Required. */
  readonly subject: IdentitySubject;
  /** The provider to declare the objects through (default: the parent's). */
  readonly provider?: k8s.Provider;
}

/** The preview's read-only Role and RoleBinding, and its credentials (token) or group (eks). */
export class ClusterViewer extends NamespacedIdentity {
  constructor(name: string, args: ClusterViewerArgs, opts?: pulumi.ComponentResourceOptions) {
    const objectName = `${args.appName}-previewer`;
    // The preview refreshes this identity's own objects too.
    const own: DeclaredObject[] = [
      { type: "kubernetes:rbac.authorization.k8s.io/v1:Role", name: objectName },
      { type: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", name: objectName },
      ...(args.subject.clusterAuth === "token"
        ? [{ type: "kubernetes:core/v1:ServiceAccount", name: objectName }]
        : []),
    ];
    const clusterScoped = args.objects.filter((o) => clusterScopedKinds.includes(o.type));
    if (clusterScoped.length > 0 && args.namespaceName === undefined) {
      refuseArgs(`ClusterViewer ${name}`, [
        {
          propertyPath: "namespaceName",
          reason: "is required with cluster-scoped objects: the ClusterRole's name holds it",
        },
      ]);
    }
    const clusterName = `${args.appName}.${args.namespaceName}.previewer`;
    // The ClusterRole and its binding, which the preview refreshes too.
    const clusterOwn: DeclaredObject[] = [
      { type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", name: clusterName },
      { type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", name: clusterName },
    ];
    const rules = rulesFor(
      refreshOperations([...args.objects.filter((o) => !clusterScopedKinds.includes(o.type)), ...own]),
    );
    super(
      "canary-pipeline:kubernetes:ClusterViewer",
      name,
      {
        appName: args.appName,
        objectName,
        component: "previewer",
        namespace: args.namespace,
        rules,
        subject: args.subject,
        ...(clusterScoped.length > 0
          ? {
              clusterRules: {
                name: clusterName,
                rules: rulesFor(refreshOperations([...clusterScoped, ...clusterOwn])),
              },
            }
          : {}),
        ...(args.provider ? { provider: args.provider } : {}),
      },
      opts,
    );
  }
}
