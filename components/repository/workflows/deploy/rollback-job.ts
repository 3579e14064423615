// The rollback job: whenever a run ends without promoting a canary it deployed (a failed or
// cancelled canary or promote job, a failed scan, a rejected approval), it scales the canary to 0.
// It runs in the rollback environment, which has no reviewers, as the rollback identity.
import { needs } from "../links";
import type { Job } from "../model";
import { rollbackEnvironment, runner } from "../names";
import { bash } from "../steps";
import { clusterCredentials, removeKubeconfig, rollbacker } from "./cluster-access";
import { slackNotice } from "./notify";
import { deployJobs, type DeployPlan } from "./plan";

const { scan, canary, promote } = deployJobs;

export function rollbackJob(plan: DeployPlan): Job {
  const { config, first, operations: o, targets: t } = plan;
  return {
    name: `Roll back (${config.environment})`,
    "runs-on": runner,
    needs: first ? needs(canary, scan, promote) : needs(canary, promote),
    // always(): also after a cancellation (GitHub runs always() jobs of a cancelled run).
    if: `always() && ${canary.result} != 'skipped' && ${promote.result} != 'success'`,
    environment: { name: rollbackEnvironment(config.environment) },
    permissions: config.clusterAuth === "eks" ? { "id-token": "write" } : {},
    "timeout-minutes": 10,
    steps: [
      ...clusterCredentials(config, rollbacker),
      bash(
        "Scale the canary to 0",
        [
          o.canaryDown.command,
          "{",
          `  echo "### Rolled back in ${config.environment}"`,
          `  echo "- the run ended without a promotion: canary deployment/${t.canaryDeployment} scaled to 0; stable keeps its image"`,
          '} >> "$GITHUB_STEP_SUMMARY"',
        ].join("\n"),
      ),
      ...slackNotice(
        config,
        "the run ended without a promotion; the canary was scaled to 0 and stable is unchanged",
        "always()",
      ),
      ...removeKubeconfig(config),
    ],
  };
}
