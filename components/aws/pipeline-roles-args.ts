// What PipelineRoles takes, and its checks before anything registers (every problem at once).
import * as pulumi from "@pulumi/pulumi";
import type { TrustedWorkflow } from "../shared/oidc-subjects";
import { regionProblem } from "../../config/aws-regions";
import { refuseArgs, type InputProblem } from "../../config/errors";
import { trustProblems } from "./trust-policy";

export interface PipelineRolesArgs {
  /** ARN of the account's GitHub OIDC provider (GithubOidcProvider.arn, or an existing one). Required. */
  readonly oidcProviderArn: pulumi.Input<string>;
  /**
   * The workflow files of the jobs that deploy, with the subjects and workflow refs their tokens
   * present (trustedWorkflows()). When set, the deploy role is created, with an EKS access entry;
   * requires eksClusterName and kubernetesGroup. Default: none (no deploy role, as with clusterAuth token).
   */
  readonly deployTrust?: readonly TrustedWorkflow[];
  /**
   * The workflow files of the rollback jobs (those that use rollbackRoleVariable), likewise. When
   * set, the rollback role is created, with an EKS access entry; requires eksClusterName and
   * rollbackKubernetesGroup. Default: none (no rollback role, as with clusterAuth token).
   */
  readonly rollbackTrust?: readonly TrustedWorkflow[];
  /**
   * Kubernetes group the rollback role is mapped to; the cluster side binds it to a Role that may
   * only scale the canary (ClusterRollbacker). Required with rollbackTrust; default: none.
   */
  readonly rollbackKubernetesGroup?: string;
  /**
   * The workflow files of the jobs that run `pulumi preview`, likewise. When set (not empty), the
   * preview role is created. Default: none, for a stack no preview job previews.
   */
  readonly previewTrust?: readonly TrustedWorkflow[];
  /** Name of the EKS cluster the deploy and rollback roles describe and their access entries map into. Required with deployTrust or rollbackTrust; default: none. */
  readonly eksClusterName?: pulumi.Input<string>;
  /** Region of the cluster (and of its access entry). Required. */
  readonly region: string;
  /** Kubernetes group the deploy role is mapped to; the cluster side binds it with a RoleBinding. Required with deployTrust; default: none. */
  readonly kubernetesGroup?: string;
  /**
   * Kubernetes group the preview role is mapped to, read-only (the cluster side's ClusterViewer
   * binds it). With previewTrust and eksClusterName: an access entry for the preview role. Default: none.
   */
  readonly previewKubernetesGroup?: string;
  /** IAM path of the roles. Default: `/`. */
  readonly rolePath?: string;
  /** ARN of a managed policy set as the roles' permissions boundary. Default: none. */
  readonly permissionsBoundary?: pulumi.Input<string>;
  /** Maximum session duration of the roles in seconds, 3600 to 43200. Default: 3600. */
  readonly maxSessionDuration?: number;
  /** Tags of every taggable resource (roles, access entry). Default: none. */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * An S3 backend: the bucket, the keys of the stack's state objects, the prefix its checkpoint is
   * listed under and the KMS key of its secrets, which the preview role may read. Default: none
   * (Pulumi Cloud, where the preview's token comes from Pulumi).
   */
  readonly previewState?: {
    readonly bucket: string;
    readonly objectKeys: readonly string[];
    readonly listPrefix: string;
    readonly keyArn: string;
  };
}

const rolePathShape = /^\/([\x21-\x7e]+\/)?$/;

/**
 * Checks the arguments before anything registers, synchronously (a throw inside an Output's
 * apply would reach every resource that reads the value): one ConfigError naming every problem by
 * its property path, after `PipelineRoles <name>`.
 */
export function validatePipelineRolesArgs(args: PipelineRolesArgs, name?: string): void {
  const problems: InputProblem[] = [];
  const problem = (propertyPath: string, reason: string) => problems.push({ propertyPath, reason });
  if (args.previewTrust !== undefined) problems.push(...trustProblems(args.previewTrust, "preview", "previewTrust"));
  if (args.deployTrust !== undefined) {
    problems.push(...trustProblems(args.deployTrust, "deploy", "deployTrust"));
    if (!args.eksClusterName)
      problem("eksClusterName", "is required with deployTrust: the deploy role may describe that cluster only");
    if (!args.kubernetesGroup)
      problem(
        "kubernetesGroup",
        "is required with deployTrust: the Kubernetes group the deploy role's access entry maps it to",
      );
  }
  if (args.rollbackTrust !== undefined) {
    problems.push(...trustProblems(args.rollbackTrust, "rollback", "rollbackTrust"));
    if (!args.eksClusterName && args.deployTrust === undefined)
      problem("eksClusterName", "is required with rollbackTrust: the rollback role may describe that cluster only");
    if (!args.rollbackKubernetesGroup)
      problem(
        "rollbackKubernetesGroup",
        "is required with rollbackTrust: the Kubernetes group the rollback role's access entry maps it to",
      );
  }
  if (args.rollbackKubernetesGroup !== undefined && args.rollbackKubernetesGroup === args.kubernetesGroup) {
    problem(
      "rollbackKubernetesGroup",
      `${JSON.stringify(args.rollbackKubernetesGroup)} is the deploy role's group (kubernetesGroup): the rollback role would hold the deployer's rights`,
    );
  }
  const groups = [
    ["kubernetesGroup", args.kubernetesGroup],
    ["rollbackKubernetesGroup", args.rollbackKubernetesGroup],
    ["previewKubernetesGroup", args.previewKubernetesGroup],
  ] as const;
  for (const [key, group] of groups) {
    if (group !== undefined && (group === "" || group.startsWith("system:")))
      problem(
        key,
        `${JSON.stringify(group)} must be a non-empty group name not starting with system: (EKS refuses those)`,
      );
  }
  if (args.previewKubernetesGroup !== undefined && (args.previewTrust === undefined || !args.eksClusterName)) {
    problem(
      "previewKubernetesGroup",
      "needs previewTrust and eksClusterName: it maps the preview role into that cluster",
    );
  }
  const region = regionProblem(args.region);
  if (region !== undefined) problem("region", `${JSON.stringify(args.region)} ${region}`);
  if (args.rolePath !== undefined && (!rolePathShape.test(args.rolePath) || args.rolePath.length > 512)) {
    problem("rolePath", `${JSON.stringify(args.rolePath)} must start and end with / (at most 512 characters)`);
  }
  const duration = args.maxSessionDuration;
  if (duration !== undefined && (!Number.isInteger(duration) || duration < 3600 || duration > 43200)) {
    problem("maxSessionDuration", `${duration} must be a whole number of seconds from 3600 to 43200`);
  }
  refuseArgs(name !== undefined ? `PipelineRoles ${name}` : "PipelineRoles", problems);
}
