// The promote job: refuse an expired canary, record stable's image, move stable to the canary's
// digest (back to the recorded image if that fails or is cancelled), retire the canary, attest.
import { rolloutWatchScript } from "../../../shared/rollout-watch";
import { needs, StepId } from "../links";
import type { Job } from "../model";
import { runner } from "../names";
import { bash } from "../steps";
import { canaryJobOutputs, failedOrCancelled } from "./canary-job";
import { clusterCredentials, removeKubeconfig } from "./cluster-access";
import { deployEnv, deployJobs, imageRef, type DeployPlan } from "./plan";
import { digestCheck, releaseAttestation } from "./provenance";

const { digest, release, previousImage } = deployEnv;
const { canary, scan } = deployJobs;

/** The step that moves stable: stable goes back only when it failed or was cancelled. */
const promoteStep = new StepId("promote");

export function promoteJob(plan: DeployPlan): Job {
  const { config, first, operations: o, targets: t } = plan;
  return {
    name: `Promote (${config.environment})`,
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
    env: { [digest.name]: canaryJobOutputs.digest, [release.name]: canaryJobOutputs.release },
    steps: [
      bash(
        "Check the digest and the release",
        [
          ...digestCheck(digest.name),
          `if [[ ! "${release.ref}" =~ ^[0-9]+$ ]]; then echo "::error::the release number must be a whole number"; exit 1; fi`,
        ].join("\n"),
      ),
      ...clusterCredentials(config),
      bash(
        "Check that the canary has not expired",
        [
          `expires="$(${o.readExpiry.command})"`,
          'if [ -z "$expires" ] || [ "$(date +%s)" -ge "$expires" ]; then',
          `  echo "::error::the canary expired at \${expires:-an unknown time} (canaryLifetimeMinutes ${config.canaryLifetimeMinutes}): it was approved too late and is scaled to 0; release again"`,
          "  exit 1",
          "fi",
        ].join("\n"),
      ),
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
          o.stableRollout.command,
          "{",
          `  echo "### Promotion failed in ${config.environment}"`,
          `  echo "- deployment/${t.stableDeployment} is back on \\\`${previousImage.braced}\\\`"`,
          '} >> "$GITHUB_STEP_SUMMARY"',
        ].join("\n"),
        {
          if: `${failedOrCancelled} && (${promoteStep.outcome} == 'failure' || ${promoteStep.outcome} == 'cancelled')`,
        },
      ),
      ...removeKubeconfig(config),
    ],
  };
}
