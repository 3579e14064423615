// The package's public surface (`import { CanaryPipeline } from "canary-pipeline"`): the entry
// component, each building block with its Args, and the settings' types and validator. Built to
// dist/ with declarations by `npm run build` (tsconfig.build.json); docs/library.md shows its use.

// The entry component: a whole service's delivery path from one Args object.
export {
  CanaryPipeline, canaryPipelineConfig,
  type CanaryPipelineArgs, type CanaryPipelineConfigArgs, type CanaryPipelineSettingsArgs,
} from "./components/canary-pipeline";

// Settings: the raw input type, the validated form, and the one validator.
export type { ServiceSettings } from "./config/settings";
export { ConfigError, loadStackConfig, parseStackConfig } from "./config/load";
export { configSchema, secretSettings, type SecretKey, type StackConfig } from "./config/schema";

// AWS: the account's OIDC provider (one per account: share it) and a service's roles.
export { GithubOidcProvider, type GithubOidcProviderArgs } from "./components/github-oidc-provider";
export { PipelineRoles, validatePipelineRolesArgs, type PipelineRolesArgs } from "./components/pipeline-roles";
export { trustPolicy } from "./components/trust-policy";
export { deployRolePermissions, previewRolePermissions } from "./components/role-permissions";
export type { IamPolicyDocument } from "./components/iam-policy-document";
export { oidcSubjects, type GithubRepository, type JobContext } from "./components/oidc-subjects";

// Cluster: the whole cluster side, and each of its parts.
export { CanaryCluster, restingSmokeTestSpec, type CanaryClusterArgs } from "./components/canary-cluster";
export { AppNamespace, type AppNamespaceArgs } from "./components/app-namespace";
export {
  ClusterDeployer, defaultEksGroup,
  type ClusterDeployerArgs, type EksDeployerArgs, type TokenDeployerArgs,
} from "./components/cluster-deployer";
export { clusterOperations, rulesFor, type ClusterOperation, type PolicyRule } from "./components/cluster-operations";
export { CanaryWorkload, type CanaryWorkloadArgs } from "./components/canary-workload";
export { ClientSideApplyProvider, type ClientSideApplyProviderArgs } from "./components/client-side-apply-provider";
export { ImagePullSecret, type ImagePullSecretArgs } from "./components/image-pull-secret";
export { PostDeploySmokeTest, type PostDeploySmokeTestArgs } from "./components/post-deploy-smoke-test";
export type { SmokeTestSpec } from "./components/smoke-test";
export { canarySplit } from "./components/canary-split";

// Repository: the environment, its settings and the generated workflow files.
export { RepositoryPipeline, type RepositoryPipelineArgs } from "./components/repository-pipeline";
export { deployOperations } from "./components/workflows/deploy";
export { pipelineWorkflows } from "./components/workflows/pipeline";
export { trustSubjects, type WorkflowFile } from "./components/workflows/model";
export { renderWorkflow } from "./components/workflows/writer";
