// What each pipeline role may do in AWS, as permission policy documents scoped to resource ARNs.
//
// Deploy role and rollback role (deploy jobs, and the rollback job, run kubectl against the
// cluster; Kubernetes RBAC decides the rest: the rollback role's group may only scale the canary):
// | action              | resource        | why                                                      |
// |---------------------|-----------------|----------------------------------------------------------|
// | eks:DescribeCluster | the cluster ARN | `aws eks update-kubeconfig` (its only AWS API call)      |
// Getting the cluster token (`aws eks get-token`) presigns sts:GetCallerIdentity, which needs no
// permission. Each role's access entry maps it to a Kubernetes group; no EKS access policy.
//
// Preview role (`pulumi preview --refresh` on pull requests reads this stack's AWS resources; the
// reads are those terraform-provider-aws makes when refreshing each resource type):
// | action                       | resource                      | why                                       |
// |------------------------------|-------------------------------|-------------------------------------------|
// | iam:GetRole                  | the stack's role ARNs         | Role read (trust, path, boundary, tags)   |
// | iam:ListRolePolicies         | the stack's role ARNs         | Role read of its inline policy names      |
// | iam:GetRolePolicy            | the stack's role ARNs         | Role and RolePolicy read of the documents |
// | iam:ListAttachedRolePolicies | the stack's role ARNs         | Role read of managed policy ARNs          |
// | iam:GetOpenIDConnectProvider | the OIDC provider ARN         | provider read, if this stack manages it   |
// | eks:DescribeCluster          | the cluster ARN               | the Kubernetes provider's kubeconfig (its lookup) |
// | eks:DescribeAccessEntry      | the stack's access entries    | AccessEntry read (deploy, rollback, preview) |
// | s3:GetObject                 | the stack's state objects     | an S3 backend: the checkpoint and meta.yaml |
// | s3:ListBucket                | the bucket, under the stack's checkpoint key | finding which checkpoint variant exists |
// | kms:Decrypt                  | the stack's secrets key       | an S3 backend: the stack's data key       |
// A preview in an S3 backend takes no lock and writes nothing (components/shared/pulumi-backend.ts).
// In the cluster, its access entry maps it to a read-only group (components/cluster/cluster-viewer.ts).
// Not granted: List*Tags (the Get/Describe responses carry the tags the provider reads), eks:
// ListAssociatedAccessPolicies (the stack associates no access policy), sts:GetCallerIdentity
// (needs no permission), any write or any `*` resource.
import type { IamPolicyDocument, IamStatement } from "./iam-policy-document";

/** The only permission of the deploy role: describe one cluster. */
export function deployRolePermissions(clusterArn: string): IamPolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "DescribeTheCluster", Effect: "Allow", Action: "eks:DescribeCluster", Resource: clusterArn }],
  };
}

/**
 * The only permission of the rollback role: the deploy role's (`aws eks update-kubeconfig`); what
 * it may do in the cluster is its group's Role.
 */
export const rollbackRolePermissions = deployRolePermissions;

/** The AWS resources of the stack the preview role reads. */
export interface PreviewTargets {
  /** Every IAM role of the stack, the preview role included (a refresh reads itself too). */
  readonly roleArns: readonly string[];
  readonly oidcProviderArn: string;
  readonly clusterArn?: string;
  readonly accessEntryArns?: readonly string[];
  /** An S3 backend: the stack's state objects, the key prefix its checkpoint is listed under, and its KMS key. */
  readonly state?: {
    readonly bucketArn: string;
    readonly objectArns: readonly string[];
    readonly listPrefix: string;
    readonly keyArn: string;
  };
}

/** Read-only access to exactly the stack's AWS resources. */
export function previewRolePermissions(targets: PreviewTargets): IamPolicyDocument {
  const statements: IamStatement[] = [
    {
      Sid: "ReadPipelineRoles",
      Effect: "Allow",
      Action: ["iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"],
      Resource: [...new Set(targets.roleArns)].sort(),
    },
    {
      Sid: "ReadOidcProvider",
      Effect: "Allow",
      Action: "iam:GetOpenIDConnectProvider",
      Resource: targets.oidcProviderArn,
    },
  ];
  if (targets.clusterArn !== undefined) {
    statements.push({
      Sid: "DescribeTheCluster",
      Effect: "Allow",
      Action: "eks:DescribeCluster",
      Resource: targets.clusterArn,
    });
  }
  if (targets.accessEntryArns && targets.accessEntryArns.length > 0) {
    statements.push({
      Sid: "ReadAccessEntries",
      Effect: "Allow",
      Action: "eks:DescribeAccessEntry",
      Resource: [...targets.accessEntryArns].sort(),
    });
  }
  if (targets.state !== undefined) {
    const { bucketArn, objectArns, listPrefix, keyArn } = targets.state;
    statements.push(
      { Sid: "ReadStackState", Effect: "Allow", Action: "s3:GetObject", Resource: [...objectArns] },
      {
        Sid: "ListStackState",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: bucketArn,
        Condition: { StringEquals: { "s3:prefix": listPrefix } },
      },
      { Sid: "DecryptStackSecrets", Effect: "Allow", Action: "kms:Decrypt", Resource: keyArn },
    );
  }
  return { Version: "2012-10-17", Statement: statements };
}
