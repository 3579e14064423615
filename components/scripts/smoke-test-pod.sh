# shellcheck shell=sh
# The smoke-test pod's script (POSIX sh, busybox in the curl image), after pod-functions.sh: each
# target SMOKE_REQUESTS times, one line per request (check), then `RESULT pass` or `RESULT fail`.
# It always exits 0, so that the runner's wait ends at once: the verdict is the RESULT line.
# Parameters: SMOKE_REQUESTS; SMOKE_TARGETS, how many targets, and for each n from 1
# SMOKE_TARGET_<n>_SERVICE (the Service's role: canary or main) and SMOKE_TARGET_<n>_URL; check's
# MAX_LATENCY_SECONDS and REQUEST_TIMEOUT_SECONDS.
: "${SMOKE_REQUESTS:?requests per target}" "${SMOKE_TARGETS:?how many targets}"
: "${MAX_LATENCY_SECONDS:?the slowest passing answer}" "${REQUEST_TIMEOUT_SECONDS:?when a request is cut off}"
failed=0
n=1
while [ "$n" -le "$SMOKE_TARGETS" ]; do
  service=$(parameter "SMOKE_TARGET_${n}_SERVICE") || exit
  url=$(parameter "SMOKE_TARGET_${n}_URL") || exit
  for _ in $(seq "$SMOKE_REQUESTS"); do check "$service" "$url" || failed=1; done
  n=$((n + 1))
done
if [ "$failed" = 0 ]; then echo 'RESULT pass'; else echo 'RESULT fail'; fi
