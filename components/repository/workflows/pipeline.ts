// The workflow files of one stack: its environment's deploy workflow and the repository-wide
// ones, each marked with whether this stack commits it. Every stack computes all of them, since
// the trust policies of its roles follow from the jobs that assume them:
//   trustSubjects(pipelineWorkflows(config), deployRoleVariable, repository)
//   trustSubjects(pipelineWorkflows(config), previewRoleVariable(config.stack), repository)
import type { StackConfig } from "../../../config/schema";
import { deployPlan, deployWorkflow, type DeployPlan } from "./deploy";
import type { WorkflowFile } from "./model";
import { driftWorkflow, infraPreviewWorkflow } from "./preview";
import { ciWorkflow } from "./repository";

export {
  awsRegionVariable,
  deployRoleVariable,
  eksClusterVariable,
  kubeconfigSecret,
  namespaceVariable,
  previewKubeconfigSecret,
  previewRoleVariable,
  rollbackKubeconfigSecret,
  rollbackRoleVariable,
  slackWebhookSecret,
} from "./names";

/** A workflow file and whether this stack commits it to the repository. */
export interface PipelineWorkflowFile extends WorkflowFile {
  readonly commit: boolean;
}

/**
 * This stack's workflow files: deploy-<environment>.yml (always committed); with a Pulumi backend,
 * drift-<stack>.yml (committed unless driftSchedule is off) and infra-preview.yml; ci.yml and
 * infra-preview.yml are committed by the stack with manageRepoWorkflows. A workflow without its
 * prerequisite is not generated at all, so no role trusts it. `deploy`: the environment's deploy
 * plan, when the caller has computed it.
 */
export function pipelineWorkflows(
  config: StackConfig,
  deploy: DeployPlan = deployPlan(config),
): PipelineWorkflowFile[] {
  const preview = infraPreviewWorkflow(config);
  const drift = driftWorkflow(config);
  return [
    { ...deployWorkflow(config, deploy), commit: true },
    { ...ciWorkflow(config), commit: config.manageRepoWorkflows },
    ...(preview ? [{ ...preview, commit: config.manageRepoWorkflows }] : []),
    ...(drift ? [{ ...drift, commit: true }] : []),
  ];
}
