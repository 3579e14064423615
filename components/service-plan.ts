// Which identities and resources a service has, decided from its settings alone before any
// component registers (CanaryPipeline follows it): the workflows it commits, and for each identity
// of the pipeline who may assume its AWS role (the committed jobs that assume it) and what it may
// do in the cluster (the operations those jobs run). One source for each fact: the jobs decide the
// trust, the operations decide the RBAC rules.
import type { StackConfig } from "../config/schema";
import { defaultEksGroup } from "./cluster/cluster-deployer";
import { defaultRollbackGroup } from "./cluster/cluster-rollbacker";
import { defaultPreviewGroup } from "./cluster/cluster-viewer";
import { hasRollbackJob } from "./repository/repository-pipeline-args";
import { deployPlan, type DeployPlan } from "./repository/workflows/deploy";
import { trustedWorkflows } from "./repository/workflows/model";
import {
  deployRoleVariable,
  pipelineWorkflows,
  previewRoleVariable,
  rollbackRoleVariable,
  type PipelineWorkflowFile,
} from "./repository/workflows/pipeline";
import type { ClusterOperation } from "./shared/cluster-operations";
import type { GithubRepository, TrustedWorkflow } from "./shared/oidc-subjects";
import { previewStateKeys, pulumiBackend } from "./shared/pulumi-backend";

/** An identity of the pipeline: who may assume its role, and how the cluster knows it. */
export interface IdentityPlan {
  /** clusterAuth eks: the committed workflows whose jobs assume its role (token mode: none, there is no role). */
  readonly trust: readonly TrustedWorkflow[];
  /** clusterAuth eks: the Kubernetes group its role's access entry maps to; token mode: undefined (a ServiceAccount). */
  readonly eksGroup?: string;
}

/** What the preview reads of an S3 backend: the stack's checkpoint objects and the key. */
export interface PreviewStatePlan {
  readonly bucket: string;
  readonly objectKeys: readonly string[];
  readonly listPrefix: string;
  readonly keyArn: string;
}

export interface ServicePlan {
  readonly repository: GithubRepository;
  /** The environment's deploy plan: every job of its deploy workflow reads it. */
  readonly deploy: DeployPlan;
  /** Every workflow file the stack computes, each marked with whether it commits it. */
  readonly workflows: readonly PipelineWorkflowFile[];
  /** The deploy jobs' identity: it runs the deploy plan's operations. */
  readonly deployer: IdentityPlan & { readonly operations: readonly ClusterOperation[] };
  /** The rollback job's identity, which may only scale the canary to 0; undefined when no committed job rolls back. */
  readonly rollbacker?: IdentityPlan & { readonly operations: readonly ClusterOperation[] };
  /** The read-only identity of the stack's previews; undefined when no committed workflow previews the stack. */
  readonly previewer?: IdentityPlan & { readonly state?: PreviewStatePlan };
  /** The settings' `key=value` tags, as a record. */
  readonly tags: Readonly<Record<string, string>>;
}

/** `key=value` tags as a record. */
const tagRecord = (tags: readonly string[]) =>
  Object.fromEntries(tags.map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)]));

/** The service's plan; `project`: the Pulumi project whose state the preview reads (an S3 backend's keys name it). */
export function servicePlan(config: StackConfig, project: string): ServicePlan {
  const repository: GithubRepository = {
    owner: config.githubOwner,
    name: config.githubRepository,
    ...(config.githubOwnerId !== undefined && config.githubRepositoryId !== undefined
      ? { ownerId: config.githubOwnerId, repositoryId: config.githubRepositoryId }
      : {}),
  };
  const deploy = deployPlan(config);
  const workflows = pipelineWorkflows(config, deploy);
  // Only committed workflows run: this stack's own, and the repository-wide ones it leaves to the
  // stack with manageRepoWorkflows. A file that stack does not commit assumes nothing.
  const committed = workflows.filter((w) => w.commit || !config.manageRepoWorkflows);
  const trusted = (roleVariable: string) => trustedWorkflows(committed, roleVariable, repository, config.deployBranch);
  const eks = config.clusterAuth === "eks";

  // The rollback job acts as an identity of its own that may only scale the canary to 0: its
  // environment has no reviewers, so it must not hold the deployer's rights.
  const rollbacker = hasRollbackJob(committed, config.environment)
    ? {
        trust: eks ? trusted(rollbackRoleVariable) : [],
        ...(eks ? { eksGroup: defaultRollbackGroup(config.appName) } : {}),
        operations: deploy.rollbackOperations,
      }
    : undefined;
  // A stack the preview workflow does not preview (not in previewStacks) needs no preview identity.
  const previewTrust = trusted(previewRoleVariable(config.stack));
  const backend = pulumiBackend(config);
  const previewState = (): PreviewStatePlan | undefined => {
    if (backend?.kind !== "s3") return undefined;
    const { objects, listPrefix } = previewStateKeys(backend, project, config.stack);
    return { bucket: backend.bucket, objectKeys: objects, listPrefix, keyArn: backend.keyArn };
  };
  const state = previewTrust.length > 0 ? previewState() : undefined;
  const previewer =
    previewTrust.length > 0
      ? {
          trust: previewTrust,
          ...(eks ? { eksGroup: defaultPreviewGroup(config.appName) } : {}),
          ...(state !== undefined ? { state } : {}),
        }
      : undefined;

  return {
    repository,
    deploy,
    workflows,
    deployer: {
      trust: eks ? trusted(deployRoleVariable) : [],
      ...(eks ? { eksGroup: defaultEksGroup(config.appName) } : {}),
      operations: deploy.deployerOperations,
    },
    ...(rollbacker !== undefined ? { rollbacker } : {}),
    ...(previewer !== undefined ? { previewer } : {}),
    tags: tagRecord(config.tags),
  };
}
