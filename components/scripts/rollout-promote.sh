# shellcheck shell=bash
# The Argo Rollouts engine's promotion (bash, a workflow step's script), at the moment it acts. The
# job's inputs are the canary job's outputs, which a re-run of failed jobs reuses however old they
# are: so it reads the Rollout and refuses unless it is this run's, runs exactly the release's
# image, and waits at the approval step (not aborted, not expired); and unless stable runs no newer
# release (but for an explicit rollback). Then the controller's full promotion, on the very version
# it judged (a change in between is refused, 409), and a bounded wait for the Rollout to be Healthy
# on the new image.
# Cluster operations (the preamble's functions): read_state (`run|image|generation|observedGeneration|
# phase|step|abort|stableRS|currentPodHash|resourceVersion|abortedAt|pausedAt|message`), promote_if_unchanged VERSION,
# stable_release, record_release (the release number on the Rollout); retrying from retrying.sh.
# Parameters: ROLLOUT_NAME, RELEASE_IMAGE (image@digest), RELEASE (its number), ROLLBACK (true: older
# allowed), APPROVAL_STEP, HEALTHY_SECONDS (the bound of the wait), CHECK_SECONDS.
: "${ROLLOUT_NAME:?the Rollout}" "${RELEASE_IMAGE:?the image@digest}" "${RELEASE:?the release number}" \
  "${ROLLBACK:?true or false}" "${APPROVAL_STEP:?the approval step}" "${HEALTHY_SECONDS:?the bound}" \
  "${CHECK_SECONDS:?seconds between looks}" "${GITHUB_RUN_ID:?the run}"
refuse() { echo "::error::not promoted: $1"; exit 1; }
state="$(retrying read_state)" || refuse "cannot read rollout/$ROLLOUT_NAME"
IFS='|' read -r run image generation observed phase step abort _ _ version _ _ message <<< "$state"
[ "$run" = "$GITHUB_RUN_ID" ] ||
  refuse "rollout/$ROLLOUT_NAME was released to by run ${run:-(none)}, not by this run ($GITHUB_RUN_ID): a run promotes only the canary it released and judged; release again"
[ "$image" = "$RELEASE_IMAGE" ] || refuse "the canary runs $image, not $RELEASE_IMAGE"
[ "$observed" = "$generation" ] || refuse "the controller has not yet seen rollout/$ROLLOUT_NAME's latest spec"
[ "$abort" != true ] || refuse "the controller aborted the canary (${message:-no message})"
if [ "$phase" != Paused ] || [ "$step" != "$APPROVAL_STEP" ]; then
  refuse "the canary does not wait for its promotion (phase ${phase:-(none)}, step ${step:-(none)}${message:+: $message}): it was approved after its lifetime, or it is still being judged; release again"
fi
current="$(retrying stable_release)"
if [ -n "$current" ] && [ "$RELEASE" -lt "$current" ] && [ "$ROLLBACK" != true ]; then
  refuse "stable runs release $current, newer than release $RELEASE: a re-run cannot move stable back in time; to roll back, run the workflow by hand with the digest"
fi
if ! refused="$(promote_if_unchanged "$version" 2>&1)"; then
  case "$refused" in
    *Conflict* | *"the object has been modified"*)
      refuse "rollout/$ROLLOUT_NAME changed since it was checked (its pause ended, or another run took it)" ;;
    *) refuse "$refused" ;;
  esac
fi
echo "promoted: the controller moves every replica to $RELEASE_IMAGE"
deadline=$(($(date +%s) + HEALTHY_SECONDS))
while :; do
  state="$(retrying read_state)" || { echo "::error::cannot read rollout/$ROLLOUT_NAME"; exit 1; }
  IFS='|' read -r _ image generation observed phase _ abort stable current_hash _ _ _ message <<< "$state"
  if [ "$observed" = "$generation" ] && [ "$image" = "$RELEASE_IMAGE" ]; then
    if [ "$phase" = Healthy ] && [ -n "$stable" ] && [ "$stable" = "$current_hash" ]; then
      echo "rollout/$ROLLOUT_NAME is Healthy: every replica runs $RELEASE_IMAGE"
      record_release
      exit 0
    fi
    if [ "$abort" = true ] || [ "$phase" = Degraded ]; then
      echo "::error::the promotion failed: ${message:-the Rollout is Degraded}; the controller keeps stable's pods"
      exit 1
    fi
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "::error::rollout/$ROLLOUT_NAME was not Healthy within ${HEALTHY_SECONDS} s (phase ${phase:-(none)}${message:+: $message})"
    exit 1
  fi
  sleep "$CHECK_SECONDS"
done
