// The promote job: judge the canary again and check, at the moment it acts, that it is this run's
// and that stable runs no newer release; record stable's image, move stable to the canary's digest
// (back to the recorded image if that fails or is cancelled), retire the canary, attest.
import { rolloutWatchScript } from "../../../shared/rollout-watch";
import { composeScript, operationPreamble, scriptText, shellParameters } from "../../../shared/script-files";
import { smokeTestDeadlineSeconds, smokeTestRunner } from "../../../shared/smoke-test";
import { needs, StepId } from "../links";
import type { Job, Step } from "../model";
import { runner } from "../names";
import { bash } from "../steps";
import { canaryJobOutputs, failedOrCancelled, retireCanaryStep } from "./canary-job";
import { clusterCredentials, removeKubeconfig } from "./cluster-access";
import { cleanupMinutes, deployEnv, deployJobs, imageRef, type DeployPlan, type RolloutEnginePlan } from "./plan";
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

/** The pipeline engine's promotion: judge the canary again, move stable to its digest (back if that fails), retire it. */
function pipelinePromoteSteps(plan: DeployPlan): Step[] {
  const { operations: o } = plan;
  const smokeTestMinutes = Math.ceil(smokeTestDeadlineSeconds(plan.smokeTest) / 60) + 1;
  return [
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
  ];
}

/**
 * The Argo Rollouts engine's promotion: the controller's full promotion of the canary this run
 * released, once it is checked at the moment it acts (rollout-promote.sh); the release recorded.
 * Until stable is Healthy on it the controller keeps the old pods; a failure or a cancellation
 * aborts it (the stable pods take every replica back).
 */
function rolloutPromoteSteps(plan: DeployPlan, argo: RolloutEnginePlan): Step[] {
  const o = argo.operations;
  return [
    bash(
      "Promote the canary",
      composeScript(
        operationPreamble(o.promote),
        `RELEASE_IMAGE=${imageRef}`,
        shellParameters({
          ROLLOUT_NAME: argo.rollout.name,
          APPROVAL_STEP: argo.rollout.approvalStep,
          HEALTHY_SECONDS: argo.healthySeconds,
          CHECK_SECONDS: argo.checkSeconds,
        }),
        scriptText("retrying.sh"),
        scriptText("rollout-promote.sh"),
      ),
      { id: promoteStep.id, "timeout-minutes": Math.ceil(argo.healthySeconds / 60) + 2 },
    ),
    retireCanaryStep(
      plan,
      "Abort the promotion",
      `${failedOrCancelled} && (${promoteStep.outcome} == 'failure' || ${promoteStep.outcome} == 'cancelled')`,
    ),
  ];
}

export function promoteJob(plan: DeployPlan): Job {
  const { config, first, targets: t, argo } = plan;
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
      ...(argo ? rolloutPromoteSteps(plan, argo) : pipelinePromoteSteps(plan)),
      ...(config.signImages ? releaseAttestation(config) : []),
      bash(
        "Report the promotion",
        [
          "{",
          `  echo "### Promoted in ${config.environment}"`,
          ...(argo
            ? [
                `  echo "- rollout/${argo.rollout.name} is Healthy on \\\`${deployEnv.image.braced}@${digest.braced}\\\` (release ${release.braced}): every replica runs it"`,
              ]
            : [
                `  echo "- deployment/${t.stableDeployment} now runs \\\`${deployEnv.image.braced}@${digest.braced}\\\` (release ${release.braced})"`,
                `  echo "- canary deployment/${t.canaryDeployment} scaled to 0"`,
              ]),
          '} >> "$GITHUB_STEP_SUMMARY"',
        ].join("\n"),
      ),
      ...(argo ? [] : [stableBackStep(plan)]),
      ...removeKubeconfig(config),
    ],
  };
}

/** The pipeline engine's put-back: stable to the image it ran, when moving it failed or was cancelled. */
function stableBackStep(plan: DeployPlan): Step {
  const { config, operations: o, targets: t } = plan;
  return bash(
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
  );
}
