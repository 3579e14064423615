// The rollback job: whenever a run ends without promoting a canary it deployed (a failed or
// cancelled canary or promote job, a failed scan, a rejected approval, an approval the canary
// outlived), it scales the canary to 0 if it is still this run's. It runs in the rollback
// environment, which has no reviewers, as the rollback identity, and ends within the time GitHub
// leaves a cancelled run (cleanupMinutes).
import { needs } from "../links";
import type { Job } from "../model";
import { rollbackEnvironment, runner } from "../names";
import { retireCanaryStep } from "./canary-job";
import { clusterCredentials, removeKubeconfig, rollbacker } from "./cluster-access";
import { slackNotice } from "./notify";
import { deployJobs, type DeployPlan } from "./plan";

const { scan, canary, promote } = deployJobs;

export function rollbackJob(plan: DeployPlan): Job {
  const { config, first } = plan;
  return {
    name: `Roll back (${config.environment})`,
    "runs-on": runner,
    needs: first ? needs(canary, scan, promote) : needs(canary, promote),
    // always(): also after a cancellation (GitHub runs always() jobs of a cancelled run).
    if: `always() && ${canary.result} != 'skipped' && ${promote.result} != 'success'`,
    environment: { name: rollbackEnvironment(config.environment) },
    permissions: config.clusterAuth === "eks" ? { "id-token": "write" } : {},
    "timeout-minutes": plan.minutes.rollback,
    steps: [
      ...clusterCredentials(config, plan.sessionSeconds.rollback, rollbacker),
      retireCanaryStep(plan, "Scale the canary to 0", "always()"),
      ...slackNotice(
        config,
        "the run ended without a promotion; its canary was scaled to 0 and stable is unchanged",
        "always()",
      ),
      ...removeKubeconfig(config),
    ],
  };
}
