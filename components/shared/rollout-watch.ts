// The rollout watch: waits for a Deployment's rollout and fails as soon as a pod of the new image
// will never become ready, rather than at the rollout's timeout.
import type { ClusterOperation } from "./cluster-operations";

/** Waiting reasons of a container that will not become ready without a change (kubelet's image and container errors). */
export const hopelessReasons = ["CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
  "CreateContainerConfigError", "CreateContainerError", "RunContainerError"] as const;

/**
 * Waits for a rollout and fails as soon as a pod of the new image will never become ready (a
 * hopeless waiting reason, or a restart: a pod of a new release that restarted has crashed), rather
 * than at the rollout's timeout. `kubectl rollout status` itself fails at the Deployment's
 * progressDeadlineSeconds.
 */
export function rolloutWatchScript(rollout: ClusterOperation, states: ClusterOperation, image: string): string {
  return [
    `${rollout.command} &`,
    "rollout=$!",
    'while kill -0 "$rollout" 2>/dev/null; do',
    `  hopeless="$(${states.command} | awk -F'|' -v image=${image} \\`,
    `    '$2 == image && ($3 ~ /^(${hopelessReasons.join("|")})$/ || $4 > 0) { print $1 ": " ($3 == "" ? "restarted " $4 " time(s)" : $3) }')"`,
    '  if [ -n "$hopeless" ]; then',
    '    kill "$rollout" 2>/dev/null || true',
    '    echo "::error::pods of the new image will not become ready: $hopeless"',
    "    exit 1",
    "  fi",
    "  sleep 3",
    "done",
    'wait "$rollout"',
  ].join("\n");
}
