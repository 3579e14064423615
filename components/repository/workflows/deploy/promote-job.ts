// The promote job: judge the canary again and check, at the moment it acts, that it is this run's
// and that stable runs no newer release; record stable's image, move stable to the canary's digest
// (back to the recorded image if that fails or is cancelled), retire the canary, attest.
import { rolloutWatchScript } from "../../../shared/rollout-watch";
import { composeScript, operationPreamble, scriptText, shellParameters } from "../../../shared/script-files";
import { smokeTestDeadlineSeconds, smokeTestRunner } from "../../../shared/smoke-test";
import { needs, StepId } from "../links";
import type { Job } from "../model";
import { runner } from "../names";
import { bash } from "../steps";
import { canaryJobOutputs, failedOrCancelled } from "./canary-job";
import { clusterCredentials, removeKubeconfig } from "./cluster-access";
import { cleanupMinutes, deployEnv, deployJobs, imageRef, type DeployPlan } from "./plan";
import { digestCheck, releaseAttestation } from "./provenance";

const { digest, release, rollback, previousImage } = deployEnv;
const { canary, scan } = deployJobs;

/** The step that moves stable: stable goes back only when it failed or was cancelled. */
const promoteStep = new StepId("promote");

/** The promote job's name: the approval deadline watches it by name. */
export const promoteJobName = (environment: string) => `Promote (${environment})`;

/**
 * promote-check.sh with its operations: this run's canary (not an older or a newer run's), running
 * the release, unexpired, every pod ready and none restarted; stable on no newer release.
 */
function promoteCheck(plan: DeployPlan): string {
  return composeScript(
    operationPreamble(plan.operations.promoteCheck),
    `RELEASE_IMAGE=${imageRef}`,
    shellParameters({ LIFETIME_MINUTES: plan.config.canaryLifetimeMinutes }),
    scriptText("retrying.sh"),
    scriptText("promote-check.sh"),
  );
}

export function promoteJob(plan: DeployPlan): Job {
  const { config, first, operations: o, targets: t } = plan;
  const smokeTestMinutes = Math.ceil(smokeTestDeadlineSeconds(plan.smokeTest) / 60) + 1;
  return {
    name: promoteJobName(config.environment),
    "runs-on": runner,
    needs: first ? needs(canary, scan) : needs(canary),
    ...(first
      ? {
          // A rollback by hand scans nothing: it releases a digest this environment attested before.
          if: `!cancelled() && ${canary.result} == 'success' && (${scan.result} == 'success' || (${scan.result} == 'skipped' && inputs.digest != ''))`,
        }
      : {}),
    environment: { name: config.environment },
    permissions: {
      ...(config.clusterAuth === "eks" || config.signImages ? { "id-token": "write" as const } : {}),
      // The attestation is stored beside the image.
      ...(config.signImages ? { packages: "write" as const } : {}),
    },
    "timeout-minutes": plan.minutes.promote,
    env: {
      [digest.name]: canaryJobOutputs.digest,
      [release.name]: canaryJobOutputs.release,
      [rollback.name]: canaryJobOutputs.rollback,
    },
    steps: [
      bash(
        "Check the digest and the release",
        [
          ...digestCheck(digest.name),
          `if [[ ! "${release.ref}" =~ ^[0-9]+$ ]]; then echo "::error::the release number must be a whole number"; exit 1; fi`,
          `if [ "${rollback.ref}" != true ] && [ "${rollback.ref}" != false ]; then echo "::error::ROLLBACK must be true or false"; exit 1; fi`,
        ].join("\n"),
      ),
      ...clusterCredentials(config, plan.sessionSeconds.deployer),
      // An approval may come hours after the canary job judged it: judge it again now.
      bash("Smoke-test the canary again", smokeTestRunner(plan.smokeTest), { "timeout-minutes": smokeTestMinutes }),
      bash("Check the canary and stable's release", promoteCheck(plan), { "timeout-minutes": 1 }),
      bash(
        "Record stable's image",
        [
          `previous="$(${o.stableImageNow.command})"`,
          previousImage.write("$previous"),
          'echo "- stable ran \\`${previous}\\` before this promotion" >> "$GITHUB_STEP_SUMMARY"',
        ].join("\n"),
      ),
      bash(
        "Promote the digest to stable",
        [
          o.stableImage.command,
          rolloutWatchScript(o.stableRollout, o.stableStates, imageRef),
          o.recordRelease.command,
        ].join("\n"),
        { id: promoteStep.id },
      ),
      bash("Retire the canary", o.canaryDown.command),
      ...(config.signImages ? releaseAttestation(config) : []),
      bash(
        "Report the promotion",
        [
          "{",
          `  echo "### Promoted in ${config.environment}"`,
          `  echo "- deployment/${t.stableDeployment} now runs \\\`${deployEnv.image.braced}@${digest.braced}\\\` (release ${release.braced})"`,
          `  echo "- canary deployment/${t.canaryDeployment} scaled to 0"`,
          '} >> "$GITHUB_STEP_SUMMARY"',
        ].join("\n"),
      ),
      bash(
        "Put stable back on its previous image",
        [
          o.stableBack.command,
          "{",
          `  echo "### Promotion failed in ${config.environment}"`,
          `  echo "- deployment/${t.stableDeployment} set back to \\\`${previousImage.braced}\\\`"`,
          '} >> "$GITHUB_STEP_SUMMARY"',
          // Bounded (GitHub ends a cancelled run's steps 5 minutes on): the controller finishes the rollout regardless.
          `if ${o.stableBackRollout.command}; then`,
          '  echo "- its rollout back has finished" >> "$GITHUB_STEP_SUMMARY"',
          "else",
          `  echo "::warning::deployment/${t.stableDeployment} is still rolling back to ${previousImage.braced}: check it"`,
          '  echo "- its rollout back had not finished when the step ended: check it" >> "$GITHUB_STEP_SUMMARY"',
          "fi",
        ].join("\n"),
        {
          if: `${failedOrCancelled} && (${promoteStep.outcome} == 'failure' || ${promoteStep.outcome} == 'cancelled')`,
          "timeout-minutes": cleanupMinutes.stableBack,
        },
      ),
      ...removeKubeconfig(config),
    ],
  };
}
