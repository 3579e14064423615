// The names the generated workflows and the repository side agree on: the variables and secrets
// a workflow reads, and the files it lives in. One place, so a rename cannot split them.

/** Environment variable: ARN of the role the canary and promote jobs assume (eks mode). */
export const deployRoleVariable = "AWS_DEPLOY_ROLE_ARN";
/**
 * Environment variable of an environment's rollback environment: ARN of the rollback role (eks
 * mode), which may only scale the canary to 0.
 */
export const rollbackRoleVariable = "AWS_ROLLBACK_ROLE_ARN";
/** Environment variable: the region of the cluster and of the role sessions. */
export const awsRegionVariable = "AWS_REGION";
/** Environment variable: the EKS cluster's name (eks mode). */
export const eksClusterVariable = "EKS_CLUSTER_NAME";
/** Environment variable: the Kubernetes namespace of the service. */
export const namespaceVariable = "K8S_NAMESPACE";
/** Environment secret: the deployer's kubeconfig (token mode). */
export const kubeconfigSecret = "KUBECONFIG";
/** Environment secret of a stack's preview and drift environments: a read-only kubeconfig (token mode). */
export const previewKubeconfigSecret = "PREVIEW_KUBECONFIG";
/** Environment secret of an environment's rollback environment: the rollback identity's kubeconfig (token mode). */
export const rollbackKubeconfigSecret = "ROLLBACK_KUBECONFIG";
/** Environment secret: the Slack incoming webhook for rollback notices. */
export const slackWebhookSecret = "SLACK_WEBHOOK";

/** Repository variable holding the ARN of `stack`'s preview role (stack name upper-cased, other characters `_`). */
export function previewRoleVariable(stack: string): string {
  return `AWS_PREVIEW_ROLE_ARN_${stack.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** Folder of the workflow files in the repository. */
export const workflowsDirectory = ".github/workflows";
/** The deploy workflow of an environment. */
export const deployWorkflowPath = (environment: string) => `${workflowsDirectory}/deploy-${environment}.yml`;
export const ciWorkflowPath = `${workflowsDirectory}/ci.yml`;
export const infraPreviewWorkflowPath = `${workflowsDirectory}/infra-preview.yml`;
/** The drift-detection workflow of a stack. */
export const driftWorkflowPath = (stack: string) => `${workflowsDirectory}/drift-${stack}.yml`;

/** The environment a stack's pull-request preview runs in: its reviewers gate running PR code with the stack's preview identity. */
export const previewEnvironment = (stack: string) => `${stack}-preview`;
/**
 * The environment a deploy workflow's rollback job runs in: no reviewers (a rollback must not wait
 * for an approval), the deploy branch only, and an identity that can only scale the canary to 0.
 */
export const rollbackEnvironment = (environment: string) => `${environment}-rollback`;
/** The environment a stack's drift detection runs in: the deploy branch only. */
export const driftEnvironment = (stack: string) => `${stack}-drift`;

/** The runner image every job uses: a fixed Ubuntu release rather than the moving ubuntu-latest. */
export const runner = "ubuntu-24.04";

export { imageName } from "../../shared/image-name";
