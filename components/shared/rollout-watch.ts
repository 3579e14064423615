// The rollout watch: waits for a Deployment's rollout and fails as soon as a pod of the new image
// will never become ready, rather than at the rollout's timeout. The script is a file,
// components/scripts/rollout-watch.sh, a fragment of the step that releases.
import type { ClusterOperation } from "./cluster-operations";
import { composeScript, operationPreamble, scriptText, shellParameters } from "./script-files";

/** Waiting reasons of a container that will not become ready without a change (kubelet's image and container errors). */
export const hopelessReasons = [
  "CrashLoopBackOff",
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "ErrImageNeverPull",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
] as const;

/** Seconds between two looks of the watch at the new pods. */
export const rolloutCheckSeconds = 3;

/** The cluster operations of the rollout watch, by the name it calls each by. */
export type RolloutWatchOperations = {
  /** Waits for the rollout (clusterOperations.rolloutStatus). */
  readonly rolloutStatus: ClusterOperation;
  /** The pods of the Deployment's track, one line each (clusterOperations.podStates). */
  readonly podStates: ClusterOperation;
};

/** The rollout watch's operations, named (operationList: the Role's). */
export const rolloutWatchOperations = (
  rollout: ClusterOperation,
  states: ClusterOperation,
): RolloutWatchOperations => ({ rolloutStatus: rollout, podStates: states });

/**
 * Waits for a rollout and fails as soon as a pod of the new image will never become ready (a
 * hopeless waiting reason, or a restart: a pod of a new release that restarted has crashed), rather
 * than at the rollout's timeout. `kubectl rollout status` itself fails at the Deployment's
 * progressDeadlineSeconds. `image` is one shell word, as the step's shell sees it (`"$IMAGE"`).
 */
export function rolloutWatchScript(rollout: ClusterOperation, states: ClusterOperation, image: string): string {
  return composeScript(
    operationPreamble(rolloutWatchOperations(rollout, states)),
    `ROLLOUT_IMAGE=${image}`,
    shellParameters({ HOPELESS_REASONS: hopelessReasons.join("|"), ROLLOUT_CHECK_SECONDS: rolloutCheckSeconds }),
    scriptText("retrying.sh"),
    scriptText("rollout-watch.sh"),
  );
}
