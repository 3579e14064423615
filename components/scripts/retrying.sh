# shellcheck shell=bash
# retrying (bash), put ahead of a script that reads the cluster or GitHub in a loop, after its
# operations' preamble.
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
