# shellcheck shell=bash
# The Argo Rollouts engine's clean-up (bash, a workflow step's script): aborts this run's canary,
# which the controller then scales to 0 (stable keeps, or gets back, every replica). A Rollout that
# another run has released to since is left alone (a re-run of an old run must not abort a newer
# run's canary), and so is one with nothing to abort: already aborted, or fully promoted. The abort
# is conditional on the resourceVersion read with the run: a change in between is read again, up
# to 3 times.
# Cluster operations (the preamble's functions): read_state (`run|image|generation|observedGeneration|
# phase|step|abort|stableRS|currentPodHash|resourceVersion|abortedAt|pausedAt|message`), abort_if_unchanged VERSION;
# retrying from retrying.sh.
# Parameters: ROLLOUT_NAME, and SUMMARY_TITLE, for the report in $GITHUB_STEP_SUMMARY.
: "${ROLLOUT_NAME:?the Rollout}" "${SUMMARY_TITLE:?the report title}" "${GITHUB_RUN_ID:?the run}"
for _ in 1 2 3; do
  # Read first: a failed read in a here-string would not stop the script (set -e ignores it there).
  state="$(retrying read_state)" || { echo "::error::cannot read rollout/$ROLLOUT_NAME"; exit 1; }
  IFS='|' read -r run _ _ _ phase _ abort stable current_hash version _ _ _ <<< "$state"
  if [ "$run" != "$GITHUB_RUN_ID" ]; then
    echo "rollout/$ROLLOUT_NAME was released to by run ${run:-(none)}, not by this run ($GITHUB_RUN_ID): left as it is"
    outcome="left to run ${run:-(none)}"
    break
  fi
  if [ "$abort" = true ]; then
    outcome="already aborted by the controller"
    break
  fi
  if [ "$phase" = Healthy ] && [ "$stable" = "$current_hash" ]; then
    outcome="fully promoted: nothing to abort"
    break
  fi
  if refused="$(abort_if_unchanged "$version" 2>&1)"; then
    outcome="aborted: the controller scales the canary to 0"
    break
  fi
  # Only a conflict (409: another change since the read) is read again; any other refusal ends the step.
  case "$refused" in
    *Conflict* | *"the object has been modified"*) ;;
    *) echo "::error::could not abort rollout/$ROLLOUT_NAME: $refused"; exit 1 ;;
  esac
  echo "rollout/$ROLLOUT_NAME changed while it was being aborted: reading it again" >&2
done
[ -n "${outcome:-}" ] || { echo "::error::could not abort rollout/$ROLLOUT_NAME"; exit 1; }
printf '### %s\n- rollout/%s: %s; stable keeps its image\n' "$SUMMARY_TITLE" "$ROLLOUT_NAME" "$outcome" |
  tee -a "${GITHUB_STEP_SUMMARY:-/dev/null}"
