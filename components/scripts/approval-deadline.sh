# shellcheck shell=bash
# The approval's deadline (bash, a workflow step's script). A job waiting for an environment's
# reviewers keeps its run, and the deploy concurrency group with it, for up to 30 days; the canary
# it would promote expires long before. This watches the promote job of this run attempt: once it
# has started (or ended), there is nothing to do; if it still waits when the canary expires, it
# cancels the run, whose rollback job then scales the canary to 0 and frees the group for the next run.
# Uses the GitHub CLI (`gh`, on GitHub's runners) with the job's token (GH_TOKEN: actions read
# to list the run's jobs, write to cancel it); retrying from retrying.sh.
# Parameters: EXPIRES_AT (Unix seconds), PROMOTE_JOB (the promote job's name, exported: the jq
# filter reads it from the environment), CHECK_SECONDS.
: "${EXPIRES_AT:?the canary expiry}" "${PROMOTE_JOB:?the promote job name}" "${CHECK_SECONDS:?seconds between looks}" \
  "${GITHUB_REPOSITORY:?}" "${GITHUB_RUN_ID:?}" "${GITHUB_RUN_ATTEMPT:?}"
jobs="repos/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID/attempts/$GITHUB_RUN_ATTEMPT/jobs"
while :; do
  status="$(retrying gh api "$jobs" --jq '.jobs[] | select(.name == env.PROMOTE_JOB) | .status')"
  case "$status" in
    in_progress | completed)
      echo "$PROMOTE_JOB is $status: its own check refuses a canary past its expiry"
      exit 0
      ;;
  esac
  if [ "$(date +%s)" -ge "$EXPIRES_AT" ]; then
    echo "::warning::the canary expired while $PROMOTE_JOB waited for approval (${status:-not listed}): cancelling the run, whose rollback job scales the canary to 0"
    echo "- the canary expired before its promotion was approved: run cancelled, canary scaled to 0 by the rollback job" >> "$GITHUB_STEP_SUMMARY"
    retrying gh api --method POST "repos/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID/cancel" > /dev/null
    exit 0
  fi
  sleep "$CHECK_SECONDS"
done
