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
      "") echo "the pod is gone" >&2; return 1 ;;
    esac
    [ "$(date +%s)" -lt "$end" ] || { echo "the pod did not finish within $1 s (phase ${phase:-unknown})" >&2; return 1; }
    sleep 2
  done
}

# remove_pod_and_wait: removes the pod (remove_pod does not wait) and waits until it is gone, so that
# a pod of the same name can be created next; at most 90 s (a pod's grace period is 30 s by default).
remove_pod_and_wait() {
  local end=$(($(date +%s) + 90))
  remove_pod
  while [ -n "$(retrying pod_phase)" ]; do
    [ "$(date +%s)" -lt "$end" ] || { echo "the pod was not gone within 90 s" >&2; return 1; }
    sleep 1
  done
}
