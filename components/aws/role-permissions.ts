// What each pipeline role may do in AWS, as permission policy documents scoped to resource ARNs.
//
// Deploy role (deploy jobs run kubectl against the cluster; Kubernetes RBAC decides the rest):
// | action              | resource        | why                                                      |
// |---------------------|-----------------|----------------------------------------------------------|
// | eks:DescribeCluster | the cluster ARN | `aws eks update-kubeconfig` (its only AWS API call)      |
// Getting the cluster token (`aws eks get-token`) presigns sts:GetCallerIdentity, which needs no
// permission. The role's access entry maps it to a Kubernetes group; no EKS access policy.
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
// | eks:DescribeCluster          | the cluster ARN               | kubeconfig for the Kubernetes side        |
// | eks:DescribeAccessEntry      | the deploy role's access entry| AccessEntry read                          |
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

/** The AWS resources of the stack the preview role reads. */
export interface PreviewTargets {
  /** Every IAM role of the stack, the preview role included (a refresh reads itself too). */
  readonly roleArns: readonly string[];
  readonly oidcProviderArn: string;
  readonly clusterArn?: string;
  readonly accessEntryArns?: readonly string[];
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
    { Sid: "ReadOidcProvider", Effect: "Allow", Action: "iam:GetOpenIDConnectProvider", Resource: targets.oidcProviderArn },
  ];
  if (targets.clusterArn !== undefined) {
    statements.push({ Sid: "DescribeTheCluster", Effect: "Allow", Action: "eks:DescribeCluster", Resource: targets.clusterArn });
  }
  if (targets.accessEntryArns && targets.accessEntryArns.length > 0) {
    statements.push({ Sid: "ReadAccessEntries", Effect: "Allow", Action: "eks:DescribeAccessEntry", Resource: [...targets.accessEntryArns].sort() });
  }
  return { Version: "2012-10-17", Statement: statements };
}
