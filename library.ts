// The package's public surface (`import { CanaryPipeline } from "canary-pipeline"`): the entry
// component, each building block with its Args, and the settings' types and validator. Built to
// dist/ with declarations by `npm run build` (tsconfig.build.json); docs/library.md shows its use.

// The entry component: a whole service's delivery path from one Args object.
export {
  CanaryPipeline,
  canaryPipelineConfig,
  canaryPipelineSettingNames,
  type CanaryPipelineArgs,
  type CanaryPipelineConfigArgs,
  type CanaryPipelineSettingsArgs,
} from "./components/canary-pipeline";

// Settings: the raw input type, the validated form, and the one validator.
export type { ServiceSettings } from "./config/settings";
export { loadStackConfig, parseStackConfig } from "./config/load";
// Bad input: one kind of error, each problem naming its setting or Args property as its reader wrote it.
export {
  ConfigError,
  argsSettingNames,
  stackSettingNames,
  type ConfigErrorOptions,
  type InputProblem,
  type SettingNames,
  type SettingPath,
} from "./config/errors";
export { configSchema, secretSettings, type SecretKey, type StackConfig } from "./config/schema";

// AWS: the account's OIDC provider (one per account: share it) and a service's roles.
export { GithubOidcProvider, type GithubOidcProviderArgs } from "./components/aws/github-oidc-provider";
export { PipelineRoles, validatePipelineRolesArgs, type PipelineRolesArgs } from "./components/aws/pipeline-roles";
export { trustPolicy } from "./components/aws/trust-policy";
export { deployRolePermissions, previewRolePermissions } from "./components/aws/role-permissions";
export type { IamPolicyDocument } from "./components/aws/iam-policy-document";
export {
  jobWorkflowRef,
  oidcSubjects,
  type GithubRepository,
  type JobContext,
  type TrustedWorkflow,
} from "./components/shared/oidc-subjects";

// Cluster: the whole cluster side, and each of its parts.
export {
  CanaryCluster,
  clusterKubeconfig,
  restingSmokeTestSpec,
  type CanaryClusterArgs,
} from "./components/cluster/canary-cluster";
export { AppNamespace, type AppNamespaceArgs } from "./components/cluster/app-namespace";
export {
  ClusterDeployer,
  defaultEksGroup,
  type ClusterDeployerArgs,
  type EksDeployerArgs,
  type TokenDeployerArgs,
} from "./components/cluster/cluster-deployer";
export { ClusterViewer, defaultPreviewGroup, type ClusterViewerArgs } from "./components/cluster/cluster-viewer";
export {
  ClusterRollbacker,
  defaultRollbackGroup,
  type ClusterRollbackerArgs,
} from "./components/cluster/cluster-rollbacker";
export { CanaryReaper, type CanaryReaperArgs } from "./components/cluster/canary-reaper";
export { DeployerPodPolicy, type DeployerPodPolicyArgs } from "./components/cluster/deployer-pod-policy";
export { clusterOperations, type ClusterOperation, type PolicyRule } from "./components/shared/cluster-operations";
export { refreshOperations, rulesFor, unreadableKinds, type DeclaredObject } from "./components/shared/rbac-rules";
export { CanaryWorkload, type CanaryWorkloadArgs } from "./components/cluster/canary-workload";
// canaryEngine argo-rollouts: the Rollout in place of the two Deployments, and its plan from the settings.
export { CanaryRollout, type CanaryRolloutArgs } from "./components/cluster/canary-rollout";
export {
  argoRolloutsCrds,
  rolloutPlan,
  type AnalysisTemplatePlan,
  type RolloutMetric,
  type RolloutPlan,
  type RolloutStep,
} from "./components/shared/argo-rollout";
export { rolloutOperations } from "./components/shared/cluster-operations";
export {
  ClientSideApplyProvider,
  type ClientSideApplyProviderArgs,
} from "./components/cluster/client-side-apply-provider";
export { ImagePullSecret, type ImagePullSecretArgs } from "./components/cluster/image-pull-secret";
export { PostDeploySmokeTest, type PostDeploySmokeTestArgs } from "./components/cluster/post-deploy-smoke-test";
export type { SmokeTestSpec } from "./components/shared/smoke-test";
export { canarySplit } from "./components/shared/canary-split";

// Repository: the environment, its settings and the generated workflow files.
export { RepositoryPipeline, type RepositoryPipelineArgs } from "./components/repository/repository-pipeline";
export { deployOperations, rollbackOperations } from "./components/repository/workflows/deploy";
export { pipelineWorkflows } from "./components/repository/workflows/pipeline";
export {
  trustedWorkflows,
  trustSubjects,
  workflowRefs,
  type WorkflowFile,
} from "./components/repository/workflows/model";
export { renderWorkflow } from "./components/repository/workflows/writer";
