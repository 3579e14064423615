// The IAM roles GitHub Actions jobs assume through OIDC: a deploy role for the jobs that run
// kubectl against EKS, a rollback role for the job that scales a canary back to 0 (a narrower
// Kubernetes group, held by an environment without reviewers), and a preview role for
// `pulumi preview` on pull requests. Who may assume
// each is what the caller derives from the jobs that use it, per workflow file (trust-policy.ts);
// what each may do is in role-permissions.ts.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deployRolePermissions, previewRolePermissions, rollbackRolePermissions } from "./role-permissions";
import type { IamPolicyDocument } from "./iam-policy-document";
import type { TrustedWorkflow } from "../shared/oidc-subjects";
import { trustPolicy } from "./trust-policy";
import { validatePipelineRolesArgs, type PipelineRolesArgs } from "./pipeline-roles-args";

export { validatePipelineRolesArgs, type PipelineRolesArgs } from "./pipeline-roles-args";

export class PipelineRoles extends pulumi.ComponentResource {
  /** ARN of the deploy role; undefined without deployTrust. */
  public readonly deployRoleArn?: pulumi.Output<string>;
  /** ARN of the rollback role; undefined without rollbackTrust. */
  public readonly rollbackRoleArn?: pulumi.Output<string>;
  /** ARN of the preview role; undefined without previewTrust. */
  public readonly previewRoleArn?: pulumi.Output<string>;

  constructor(name: string, args: PipelineRolesArgs, opts?: pulumi.ComponentResourceOptions) {
    validatePipelineRolesArgs(args, name);
    super("canary-pipeline:aws:PipelineRoles", name, {}, opts);
    const tags = { ...(args.tags ?? {}) };
    const roleSettings = {
      path: args.rolePath ?? "/",
      permissionsBoundary: args.permissionsBoundary,
      maxSessionDuration: args.maxSessionDuration ?? 3600,
      tags,
    };
    const providerArn = pulumi.output(args.oidcProviderArn);
    const trust = (trusted: readonly TrustedWorkflow[], role: string) =>
      providerArn.apply((arn) => JSON.stringify(trustPolicy(arn, trusted, role)));

    const clusterName = args.eksClusterName;
    // The provider, the roles and the cluster (which the access entries are created on) share one
    // account: its ARN names the partition and the account, so no lookup is needed.
    const clusterArn =
      clusterName === undefined
        ? undefined
        : pulumi.all([providerArn, clusterName]).apply(([arn, cluster]) => {
            const [, partition, , , account] = arn.split(":");
            return `arn:${partition}:eks:${args.region}:${account}:cluster/${cluster}`;
          });

    // A role that runs kubectl on the cluster: it may describe the cluster, and its access entry
    // maps it to a Kubernetes group bound by a namespaced RoleBinding; no EKS access policy, so the
    // cluster side's RBAC is all the role may do in Kubernetes (AWS EKS docs, "Grant IAM users
    // access to Kubernetes with EKS access entries").
    const kubectlRole = (
      kind: "deploy" | "rollback",
      trusted: readonly TrustedWorkflow[] | undefined,
      group: string | undefined,
      does: string,
      permissions: (clusterArn: string) => IamPolicyDocument,
    ) => {
      if (trusted === undefined || group === undefined || clusterName === undefined || clusterArn === undefined)
        return undefined;
      const role = new aws.iam.Role(
        `${name}-${kind}-role`,
        {
          description: pulumi.interpolate`GitHub Actions ${does} on EKS cluster ${clusterName}`,
          assumeRolePolicy: trust(trusted, kind),
          ...roleSettings,
        },
        { parent: this },
      );
      new aws.iam.RolePolicy(
        `${name}-${kind}-policy`,
        {
          role: role.name,
          policy: clusterArn.apply((arn) => JSON.stringify(permissions(arn))),
        },
        { parent: this },
      );
      const entry = new aws.eks.AccessEntry(
        `${name}-${kind}-access`,
        {
          clusterName,
          principalArn: role.arn,
          type: "STANDARD",
          kubernetesGroups: [group],
          region: args.region,
          tags,
        },
        { parent: this },
      );
      return { role, entry };
    };
    const deploy = kubectlRole(
      "deploy",
      args.deployTrust,
      args.kubernetesGroup,
      "deploy jobs: kubectl",
      deployRolePermissions,
    );
    // The rollback job's environment has no reviewers: its role maps to a group that may only scale the canary.
    const rollback = kubectlRole(
      "rollback",
      args.rollbackTrust,
      args.rollbackKubernetesGroup,
      "rollback jobs: scale the canary to 0",
      rollbackRolePermissions,
    );
    this.deployRoleArn = deploy?.role.arn;
    this.rollbackRoleArn = rollback?.role.arn;

    if (args.previewTrust !== undefined) {
      const previewRole = new aws.iam.Role(
        `${name}-preview-role`,
        {
          description: "GitHub Actions pull-request jobs: pulumi preview (read-only)",
          assumeRolePolicy: trust(args.previewTrust, "preview"),
          ...roleSettings,
        },
        { parent: this },
      );
      // Read-only in Kubernetes: the group's Role may get the stack's objects and no Secret.
      const previewAccess =
        clusterName !== undefined && args.previewKubernetesGroup !== undefined
          ? new aws.eks.AccessEntry(
              `${name}-preview-access`,
              {
                clusterName,
                principalArn: previewRole.arn,
                type: "STANDARD",
                kubernetesGroups: [args.previewKubernetesGroup],
                region: args.region,
                tags,
              },
              { parent: this },
            )
          : undefined;
      new aws.iam.RolePolicy(
        `${name}-preview-policy`,
        {
          role: previewRole.name,
          policy: pulumi
            .all([
              pulumi.all([previewRole.arn, deploy?.role.arn, rollback?.role.arn]),
              providerArn,
              clusterArn,
              pulumi.all([deploy?.entry.accessEntryArn, rollback?.entry.accessEntryArn, previewAccess?.accessEntryArn]),
            ])
            .apply(([roleArns, oidcProviderArn, cluster, entryArns]) =>
              JSON.stringify(
                previewRolePermissions({
                  roleArns: roleArns.filter((arn) => arn !== undefined),
                  oidcProviderArn,
                  ...(cluster === undefined ? {} : { clusterArn: cluster }),
                  accessEntryArns: entryArns.filter((arn) => arn !== undefined),
                  ...(args.previewState === undefined
                    ? {}
                    : { state: stateTargets(oidcProviderArn, args.previewState) }),
                }),
              ),
            ),
        },
        { parent: this },
      );
      this.previewRoleArn = previewRole.arn;
    }

    this.registerOutputs({
      deployRoleArn: this.deployRoleArn,
      rollbackRoleArn: this.rollbackRoleArn,
      previewRoleArn: this.previewRoleArn,
    });
  }
}

/** The S3 backend's ARNs, in the partition of the OIDC provider (the account's). */
function stateTargets(oidcProviderArn: string, state: NonNullable<PipelineRolesArgs["previewState"]>) {
  const partition = oidcProviderArn.split(":")[1];
  const bucketArn = `arn:${partition}:s3:::${state.bucket}`;
  return {
    bucketArn,
    objectArns: state.objectKeys.map((key) => `${bucketArn}/${key}`),
    listPrefix: state.listPrefix,
    keyArn: state.keyArn,
  };
}
