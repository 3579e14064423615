// A gated environment's approval deadline: while the promote job waits for its reviewers, the run
// holds the deploy concurrency group (GitHub keeps a pending approval for 30 days) and the canary
// serves unjudged since its last check. This job watches the promote job of its run; when the
// canary expires before the promotion has started, it cancels the run: the rollback job scales
// the canary to 0 and the next queued run may go. A promotion approved in time checks the canary
// again itself (promote-check.sh).
import { needs } from "../links";
import type { Job } from "../model";
import { runner } from "../names";
import { bash } from "../steps";
import { composeScript, scriptText, shellParameters } from "../../../shared/script-files";
import { canaryJobOutputs } from "./canary-job";
import { deployJobs, type DeployPlan } from "./plan";
import { promoteJobName } from "./promote-job";

/** Seconds between two looks at the promote job. */
export const approvalCheckSeconds = 30;

export function approvalDeadlineJob(plan: DeployPlan): Job {
  const { config } = plan;
  return {
    name: `Approval deadline (${config.environment})`,
    "runs-on": runner,
    needs: needs(deployJobs.canary),
    // Only a canary that passed waits for an approval.
    permissions: {
      // List this run's jobs, and cancel the run: nothing else (no environment, no secret).
      actions: "write",
    },
    "timeout-minutes": plan.minutes.approvalDeadline,
    steps: [
      bash(
        "Cancel the run if the canary expires before its promotion is approved",
        composeScript(
          // Exported: gh's --jq reads the job's name from the environment (env.PROMOTE_JOB).
          shellParameters(
            { PROMOTE_JOB: promoteJobName(config.environment), CHECK_SECONDS: approvalCheckSeconds },
            { exported: true },
          ),
          scriptText("retrying.sh"),
          scriptText("approval-deadline.sh"),
        ),
        { env: { EXPIRES_AT: canaryJobOutputs.expires, GH_TOKEN: "${{ github.token }}" } },
      ),
    ],
  };
}
