// The deploy workflow of one environment, `deploy-<environment>.yml`, owned by that environment's
// stack. The first environment (no promoteFrom) tests, builds, signs and scans the image on each
// push to the deploy branch; a later environment promotes a digest that environment already
// shipped, by hand, never rebuilding. Both deploy by digest to the canary, smoke-test it through
// the Services, then move the stable Deployment to the same digest.
// The plan (plan.ts) is computed once and every job (one file each) reads it; every kubectl command
// comes from the operation catalogue (components/shared/cluster-operations.ts) through the plan,
// and deployOperations lists exactly those the workflow runs: the deployer Role is derived from it.
import type { Job, Triggers, WorkflowFile } from "../model";
import { deployWorkflowPath, imageName } from "../names";
import { approvalDeadlineJob } from "./approval-deadline-job";
import { buildJob, releasesTheBranch } from "./build-job";
import { canaryJob } from "./canary-job";
import { deployEnv, deployJobs, deployPlan, type DeployConfig, type DeployPlan } from "./plan";
import { promoteJob } from "./promote-job";
import { rollbackJob } from "./rollback-job";
import { scanJob } from "./scan-job";
import { testJob } from "./test-job";

export { publishCacheScope } from "./build-job";
export { kubectlVersion } from "./cluster-access";
export {
  deployOperations,
  deployPlan,
  rollbackOperations,
  rolloutTimeouts,
  smokeTestSpec,
  type DeployConfig,
  type DeployOperations,
  type DeployPlan,
} from "./plan";
export { releasePredicateType } from "./provenance";

/** What starts the workflow: a push to the deploy branch or a rollback by hand (first), a promotion by hand (later). */
function triggers({ config, first }: DeployPlan): Triggers {
  if (first) {
    return {
      push: { branches: [config.deployBranch] },
      workflow_dispatch: {
        inputs: {
          digest: {
            description: `Roll back: a digest (sha256:…) ${config.environment} released before. Empty: build and release ${config.deployBranch}.`,
            required: false,
            type: "string",
            default: "",
          },
        },
      },
    };
  }
  return {
    workflow_dispatch: {
      inputs: {
        digest: {
          description: `Image digest (sha256:…) that ${config.promoteFrom} released`,
          required: true,
          type: "string",
        },
        rollback: {
          description: "Roll back: allow a release older than the one stable runs",
          required: false,
          type: "boolean",
          default: "false",
        },
      },
    },
  };
}

/** The environment's deploy workflow, from its plan (computed from `config` when not given). */
export function deployWorkflow(config: DeployConfig, plan: DeployPlan = deployPlan(config)): WorkflowFile {
  const { test, build, scan, canary, promote, rollback, approvalDeadline } = deployJobs;
  const jobs: Record<string, Job> = {
    ...(plan.first
      ? {
          // A rollback by hand builds, tests and scans nothing: it releases a digest released before.
          [test.id]: { ...testJob(plan), if: releasesTheBranch },
          [build.id]: buildJob(plan),
          [scan.id]: scanJob(plan),
        }
      : {}),
    [canary.id]: canaryJob(plan),
    ...(plan.gated ? { [approvalDeadline.id]: approvalDeadlineJob(plan) } : {}),
    [promote.id]: promoteJob(plan),
    [rollback.id]: rollbackJob(plan),
  };
  return {
    path: deployWorkflowPath(config.environment),
    workflow: {
      name: plan.first
        ? `Deploy to ${config.environment}`
        : `Promote from ${config.promoteFrom} to ${config.environment}`,
      on: triggers(plan),
      permissions: {},
      // One deployment per environment at a time. A queued run waits rather than cancelling a
      // rollout, and every queued run waits its turn (queue: max, first in first out, up to 100):
      // with the default queue a new run replaces the one pending, so a push could drop a rollback
      // dispatched by hand (GitHub docs, "Control the concurrency of workflows and jobs").
      concurrency: { group: `deploy-${config.environment}`, "cancel-in-progress": false, queue: "max" },
      env: { [deployEnv.image.name]: imageName(config) },
      jobs,
    },
  };
}
