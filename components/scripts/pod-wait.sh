# shellcheck shell=bash
# The pod runners' waits (bash, put ahead of the smoke-test and bake runners, after their
# operations' preamble, which gives remove_pod and pod_phase).

# read_pod_phase: pod_phase (empty once the pod is gone), tried as retrying tries a read. Called
# directly rather than through retrying's "$@", which shellcheck cannot follow into a subshell
# (`pulumi up`'s smoke test runs in one).
read_pod_phase() {
  local attempt
  for attempt in 1 2 3; do
    pod_phase && return 0
    [ "$attempt" -lt 3 ] || return 1
    echo "retrying after a failed read (attempt $attempt of 3): pod_phase" >&2
    sleep $((2 * attempt))
  done
}

# wait_for_pod SECONDS: waits until the pod that pod_phase reads has finished. Succeeded returns 0;
# Failed (it crashed, or ran past its activeDeadlineSeconds) returns 1 at once, not at the timeout
# (a wait for the Succeeded phase alone would wait out its timeout for a Failed pod).
wait_for_pod() {
  local end=$(($(date +%s) + $1)) phase
  while :; do
    phase="$(read_pod_phase)" || return 1
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
  while [ -n "$(read_pod_phase)" ]; do
    [ "$(date +%s)" -lt "$end" ] || { echo "the pod was not gone within 90 s" >&2; return 1; }
    sleep 1
  done
}
