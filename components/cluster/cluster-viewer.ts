// The identity `pulumi preview` reads the live objects as: a NamespacedIdentity whose Role may get
// exactly the stack's objects, by name, and list what their refresh lists
// (refreshOperations: derived from the objects the cluster components declare). No Secret: the
// preview excludes them (unreadableKinds). clusterAuth token: a ServiceAccount whose kubeconfig the
// preview workflow receives; clusterAuth eks: the group the preview role's access entry maps to.
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { refreshOperations, rulesFor, type DeclaredObject } from "../shared/cluster-operations";
import { NamespacedIdentity, type IdentitySubject } from "./namespaced-identity";

/** The default Kubernetes group the AWS side's access entry maps the preview role to. */
export const defaultPreviewGroup = (appName: string) => `${appName}-previewers`;

export interface ClusterViewerArgs {
  /** The service's name: objects are named `${appName}-previewer`. Required. */
  readonly appName: string;
  /** The namespace the Role grants access in. Required. */
  readonly namespace: pulumi.Input<string>;
  /** The objects the stack declares there (the Namespace included); the Role reads exactly these. Required. */
  readonly objects: readonly DeclaredObject[];
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
      ...(args.subject.clusterAuth === "token" ? [{ type: "kubernetes:core/v1:ServiceAccount", name: objectName }] : []),
    ];
    const rules = rulesFor(refreshOperations([...args.objects, ...own]));
    super("canary-pipeline:kubernetes:ClusterViewer", name, {
      appName: args.appName, objectName, component: "previewer", namespace: args.namespace, rules, subject: args.subject,
      ...(args.provider ? { provider: args.provider } : {}),
    }, opts);
  }
}
