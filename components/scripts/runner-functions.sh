# shellcheck shell=bash
# The functions the runners share (bash, put ahead of a runner's text, after its operations' preamble).
#
# retrying COMMAND...: runs a read of the API server up to RETRY_ATTEMPTS times (default 3), 2, then
# 4 s apart, and fails with the last attempt's status: one refused connection or 5xx during a
# rollout must not fail a healthy release, and a lasting outage still ends the step within seconds.
retrying() {
  local attempt=1 status=0 attempts="${RETRY_ATTEMPTS:-3}"
  while :; do
    "$@" && return 0 || status=$?
    [ "$attempt" -lt "$attempts" ] || return "$status"
    echo "retrying after a failed read (attempt $attempt of $attempts): $*" >&2
    sleep $((2 * attempt))
    attempt=$((attempt + 1))
  done
}

# wait_for_pod SECONDS: waits until the pod that pod_phase reads has finished. Succeeded returns 0;
# Failed (it crashed, or ran past its activeDeadlineSeconds) returns 1 at once, not at the timeout
# (a wait for the Succeeded phase alone would wait out its timeout for a Failed pod).
wait_for_pod() {
  local end=$(($(date +%s) + $1)) phase
  while :; do
    phase="$(retrying pod_phase)" || return 1
    case "$phase" in
      Succeeded) return 0 ;;
      Failed) echo "the pod failed" >&2; return 1 ;;
    esac
    [ "$(date +%s)" -lt "$end" ] || { echo "the pod did not finish within $1 s (phase ${phase:-unknown})" >&2; return 1; }
    sleep 2
  done
}
