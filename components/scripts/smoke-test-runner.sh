# shellcheck shell=bash
# The smoke test's runner (bash), for the canary job and for `pulumi up`: it runs the smoke-test pod
# from its manifest, prints the pod's report (and a table in $GITHUB_STEP_SUMMARY when there is
# one), removes the pod and fails unless every request passed. No attach and no exec: the pod's
# log is its report.
# Cluster operations (the preamble's functions): remove_pod, create_pod FILE, pod_phase, pod_logs;
# remove_pod_and_wait and wait_for_pod from pod-wait.sh.
# Parameters: SMOKE_POD_MANIFEST, the file that holds the pod's manifest; POD_WAIT_SECONDS, how long
# the pod may take to finish.
set -euo pipefail
: "${SMOKE_POD_MANIFEST:?the file of the pod manifest}" "${POD_WAIT_SECONDS:?how long the pod may take}"
remove_pod_and_wait
trap remove_pod EXIT
create_pod "$SMOKE_POD_MANIFEST"
wait_for_pod "$POD_WAIT_SECONDS" || { echo "smoke test pod did not finish"; pod_logs || true; exit 1; }
report="$(pod_logs)"
echo "$report"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  { echo "### Smoke test"; echo; echo "| verdict | service | status | latency | url |"; echo "|---|---|---|---|---|";
    echo "$report" | awk '$1 == "PASS" || $1 == "FAIL" { print "| " $1 " | " $2 " | " $3 " | " $4 " | " $5 " |" }'; } >> "$GITHUB_STEP_SUMMARY"
fi
echo "$report" | grep -qx "RESULT pass"
