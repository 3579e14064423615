# shellcheck shell=bash
# The bake window's runner (bash), the canary job's step after the smoke test: it starts the bake
# pod and, until BAKE_SECONDS have passed, looks every BAKE_CHECK_SECONDS at the canary's pods (one
# not ready, or restarted since the bake began, fails it at once) and at the pod's report (`RESULT
# fail` ends the wait); then it waits for the pod, prints its report (and a table in
# $GITHUB_STEP_SUMMARY), removes the pod and fails unless the report says `RESULT pass`.
# Cluster operations (the preamble's functions): remove_pod, canary_pod_states, create_pod FILE,
# pod_logs, pod_phase; retrying from retrying.sh, remove_pod_and_wait and
# wait_for_pod from pod-wait.sh.
# Parameters: BAKE_POD_MANIFEST, the file that holds the pod's manifest; BAKE_SECONDS; BAKE_CHECK_SECONDS;
# POD_WAIT_SECONDS, how long the final wait for the pod may last.
set -euo pipefail
: "${BAKE_POD_MANIFEST:?the file of the pod manifest}" "${BAKE_SECONDS:?the bake window}" "${BAKE_CHECK_SECONDS:?seconds between looks}" "${POD_WAIT_SECONDS:?the final wait}"
report=""
summary() {
  if [ -z "${GITHUB_STEP_SUMMARY:-}" ]; then return 0; fi
  { echo "### Bake window ($BAKE_SECONDS s)"; echo; echo "$1"; echo; echo "| verdict | check | result |"; echo "|---|---|---|";
    echo "$report" | awk '$1 == "PASS" || $1 == "FAIL" { v = $1; c = $2; $1 = ""; $2 = ""; sub(/^ +/, ""); print "| " v " | " c " | " $0 " |" }'; } >> "$GITHUB_STEP_SUMMARY"
}
fail() { echo "::error::canary bake: $1"; summary "- failed: $1"; exit 1; }
# Each canary pod's restarts when the bake began; a pod created since counts from 0.
declare -A restarts=()
canary_health() {
  local pods name total ready
  pods="$(retrying canary_pod_states)" || fail "cannot read the canary's pods"
  [ -n "$pods" ] || fail "the canary has no pods"
  while IFS='|' read -r name _ _ total ready; do
    total=${total:-0}
    if [ "$1" = begin ]; then restarts[$name]=$total; fi
    [ "$ready" = True ] || fail "canary pod $name is not ready"
    [ "$total" -le "${restarts[$name]:-0}" ] || fail "canary pod $name restarted ($total restarts, ${restarts[$name]:-0} when the bake began)"
  done <<< "$pods"
}
remove_pod_and_wait
trap remove_pod EXIT
canary_health begin
create_pod "$BAKE_POD_MANIFEST"
# Whole seconds: one more, so that the window is never shorter than BAKE_SECONDS (a start at x.9 s
# would otherwise end it up to a second early).
end=$(($(date +%s) + BAKE_SECONDS + 1))
while [ "$(date +%s)" -lt "$end" ]; do
  left=$((end - $(date +%s))); sleep $((left < BAKE_CHECK_SECONDS ? (left > 0 ? left : 0) : BAKE_CHECK_SECONDS))
  canary_health during
  report="$(pod_logs 2>/dev/null)" || report=""
  if grep -qx "RESULT fail" <<< "$report"; then break; fi
done
wait_for_pod "$POD_WAIT_SECONDS" || { pod_logs || true; fail "the bake pod did not finish"; }
report="$(pod_logs)"
echo "$report"
grep -qx "RESULT pass" <<< "$report" || fail "the bake pod judged the canary failed (FAIL lines above)"
summary "- passed"
