# shellcheck shell=bash
# Retires this run's canary (bash, a workflow step's script): scales the canary to 0 when the run
# that deployed it is this one ($GITHUB_RUN_ID), and leaves alone a canary another run has deployed
# since (a re-run of an old run must not scale a newer run's canary down). The scale is conditional
# on the resourceVersion read with the run: a change in between is read again, up to 3 times.
# Cluster operations (the preamble's functions): read_canary_state (`expiry|run|image|replicas|ready|
# updated|resourceVersion`), scale_canary_down_if_unchanged VERSION; retrying from retrying.sh.
# Parameters: CANARY_NAME, the canary's Deployment, and SUMMARY_TITLE, for the report in $GITHUB_STEP_SUMMARY.
: "${CANARY_NAME:?the canary Deployment}" "${SUMMARY_TITLE:?the report title}" "${GITHUB_RUN_ID:?the run}"
for _ in 1 2 3; do
  # Read first: a failed read in a here-string would not stop the script (set -e ignores it there).
  state="$(retrying read_canary_state)" || { echo "::error::cannot read deployment/$CANARY_NAME"; exit 1; }
  IFS='|' read -r _ run _ replicas _ _ version <<< "$state"
  if [ "$run" != "$GITHUB_RUN_ID" ]; then
    echo "deployment/$CANARY_NAME was deployed by run ${run:-(none)}, not by this run ($GITHUB_RUN_ID): left as it is"
    retired="left to run ${run:-(none)}"
    break
  fi
  if [ "${replicas:-0}" = 0 ] || scale_canary_down_if_unchanged "$version"; then
    retired="scaled to 0"
    break
  fi
  echo "deployment/$CANARY_NAME changed while it was being scaled to 0: reading it again" >&2
done
[ -n "${retired:-}" ] || { echo "::error::could not scale deployment/$CANARY_NAME to 0"; exit 1; }
printf '### %s\n- canary deployment/%s: %s; stable keeps its image\n' "$SUMMARY_TITLE" "$CANARY_NAME" "$retired" |
  tee -a "${GITHUB_STEP_SUMMARY:-/dev/null}"
