// The identity the deploy workflow's rollback job acts as: a NamespacedIdentity whose Role grants
// exactly what the rollback operations need (rulesFor: scale the canary Deployment, nothing else).
// It is held by the rollback environment, which has no reviewers so that a rollback never waits
// for an approval: an ungated environment must not hold the deployer's rights. clusterAuth token:
// a ServiceAccount whose kubeconfig that environment receives; clusterAuth eks: the group the
// rollback role's access entry maps to.
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { type ClusterOperation } from "../shared/cluster-operations";
import { rulesFor } from "../shared/rbac-rules";
import { NamespacedIdentity, type IdentitySubject } from "./namespaced-identity";
import { refuseArgs } from "../../config/errors";

/** The default Kubernetes group the AWS side's access entry maps the rollback role to. */
export const defaultRollbackGroup = (appName: string) => `${appName}-rollbackers`;

export interface ClusterRollbackerArgs {
  /** The service's name: objects are named `${appName}-rollback`. Required. */
  readonly appName: string;
  /** The namespace the Role grants access in. Required. */
  readonly namespace: pulumi.Input<string>;
  /** The operations the rollback job performs (rollbackOperations); the Role grants exactly what they need. Required. */
  readonly operations: readonly ClusterOperation[];
  /** A token ServiceAccount, or the group of the rollback role's access entry (default `${appName}-rollbackers`). Required. */
  readonly subject: IdentitySubject;
  /** The provider to declare the objects through (default: the parent's). */
  readonly provider?: k8s.Provider;
}

/** The rollback identity's Role and RoleBinding, and its credentials (token) or group (eks). */
export class ClusterRollbacker extends NamespacedIdentity {
  constructor(name: string, args: ClusterRollbackerArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything is registered: a throw inside async work would reach every resource that reads the value.
    if (args.operations.length === 0)
      refuseArgs(`ClusterRollbacker ${name}`, [
        { propertyPath: "operations", reason: "must name at least one operation" },
      ]);
    super(
      "canary-pipeline:kubernetes:ClusterRollbacker",
      name,
      {
        appName: args.appName,
        objectName: `${args.appName}-rollback`,
        component: "rollback",
        namespace: args.namespace,
        rules: rulesFor(args.operations),
        subject: args.subject,
        ...(args.provider ? { provider: args.provider } : {}),
      },
      opts,
    );
  }
}
