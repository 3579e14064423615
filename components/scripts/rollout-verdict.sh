# shellcheck shell=bash
# The Argo Rollouts engine's canary wait (bash, a workflow step's script): the image is set, the
# controller walks the canary steps; this waits for its verdict. Passed: the Rollout is Paused at
# the approval step running this run's image. Failed: the controller aborted it (an analysis failed
# or errored, the progress deadline passed), which already scaled the canary to 0. A Rollout that
# another run has taken since, or that runs another image, fails the wait too; so does the bound.
# Cluster operations (the preamble's functions): read_state (`run|image|generation|observedGeneration|
# phase|step|abort|stableRS|currentPodHash|resourceVersion|abortedAt|pausedAt|message`); retrying from retrying.sh.
# The controller may write one more status of the previous release after it has seen the new spec
# (an abort, a pause): only an abort or a pause that began once this release was set counts.
# Parameters: ROLLOUT_NAME, RELEASE_IMAGE (image@digest), RELEASED_AT (Unix seconds, taken before
# the image was set), APPROVAL_STEP (the pause's index), VERDICT_SECONDS (the bound), CHECK_SECONDS
# (between two looks).
: "${ROLLOUT_NAME:?the Rollout}" "${RELEASE_IMAGE:?the image@digest}" "${RELEASED_AT:?when the image was set}" \
  "${APPROVAL_STEP:?the approval step}" "${VERDICT_SECONDS:?the bound}" "${CHECK_SECONDS:?seconds between looks}" \
  "${GITHUB_RUN_ID:?the run}"
# since TIME: true when the RFC 3339 TIME is this release's (at or after RELEASED_AT).
since() { [ -n "$1" ] && [ "$(date -d "$1" +%s)" -ge "$RELEASED_AT" ]; }
deadline=$(($(date +%s) + VERDICT_SECONDS))
last=""
while :; do
  # Read first: a failed read in a here-string would not stop the script (set -e ignores it there).
  state="$(retrying read_state)" || { echo "::error::cannot read rollout/$ROLLOUT_NAME"; exit 1; }
  IFS='|' read -r run image generation observed phase step abort _ _ _ aborted_at paused_at message <<< "$state"
  [ "$run" = "$GITHUB_RUN_ID" ] || { echo "::error::rollout/$ROLLOUT_NAME was taken by run ${run:-(none)}"; exit 1; }
  [ "$image" = "$RELEASE_IMAGE" ] || { echo "::error::rollout/$ROLLOUT_NAME now runs $image, not $RELEASE_IMAGE"; exit 1; }
  now="phase ${phase:-(none)}, step ${step:-(none)}${message:+: $message}"
  [ "$now" = "$last" ] || echo "$(date -u +%H:%M:%S) rollout/$ROLLOUT_NAME: $now"
  last="$now"
  # The status speaks of this release only once the controller has seen its spec.
  if [ "$observed" = "$generation" ]; then
    if [ "$abort" = true ] && since "$aborted_at"; then
      echo "::error::the controller aborted the canary (${message:-no message}); it scaled the canary to 0 and stable keeps every replica"
      exit 1
    fi
    if [ "$abort" != true ] && [ "$phase" = Degraded ]; then
      echo "::error::rollout/$ROLLOUT_NAME is Degraded: ${message:-no message}"
      exit 1
    fi
    if [ "$phase" = Paused ] && [ "$step" = "$APPROVAL_STEP" ] && since "$paused_at"; then
      echo "the canary passed every analysis and waits for its promotion at step $step"
      exit 0
    fi
    if [ "$abort" != true ] && [ "${step:-0}" -gt "$APPROVAL_STEP" ] && since "$paused_at"; then
      echo "::error::rollout/$ROLLOUT_NAME is past its approval step ($now): the canary's lifetime ended"
      exit 1
    fi
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "::error::no verdict on rollout/$ROLLOUT_NAME within ${VERDICT_SECONDS} s ($now)"
    exit 1
  fi
  sleep "$CHECK_SECONDS"
done
