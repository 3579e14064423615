// The workflow files of one stack: its environment's deploy workflow and the repository-wide
// ones, each marked with whether this stack commits it. Every stack computes all of them, since
// the trust policies of its roles follow from the jobs that assume them:
//   trustSubjects(pipelineWorkflows(config), deployRoleVariable, repository)
//   trustSubjects(pipelineWorkflows(config), previewRoleVariable(config.stack), repository)
import type { StackConfig } from "../../../config/schema";
import { deployWorkflow } from "./deploy";
import type { WorkflowFile } from "./model";
import { ciWorkflow, infraPreviewWorkflow } from "./repository";

export {
  awsRegionVariable, deployRoleVariable, eksClusterVariable, kubeconfigSecret, namespaceVariable, previewRoleVariable,
  pulumiTokenSecret, slackWebhookSecret,
} from "./names";

/** A workflow file and whether this stack commits it to the repository. */
export interface PipelineWorkflowFile extends WorkflowFile {
  readonly commit: boolean;
}

/**
 * This stack's workflow files: deploy-<environment>.yml (always committed), ci.yml and
 * infra-preview.yml (committed only with manageRepoWorkflows; infra-preview.yml also needs the
 * pulumiAccessToken secret, without which it could not log in).
 */
export function pipelineWorkflows(config: StackConfig): PipelineWorkflowFile[] {
  return [
    { ...deployWorkflow(config), commit: true },
    { ...ciWorkflow(config), commit: config.manageRepoWorkflows },
    { ...infraPreviewWorkflow(config), commit: config.manageRepoWorkflows && config.secrets.pulumiAccessToken },
  ];
}
