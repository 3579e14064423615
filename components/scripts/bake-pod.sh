# shellcheck shell=sh
# The bake pod's script (POSIX sh, busybox in the curl image: no jq), after pod-functions.sh. Every
# BAKE_INTERVAL_SECONDS, BAKE_ROUNDS times: one request per path through the canary Service
# (check: `PASS|FAIL canary <status> <seconds>s <url>`) and one measurement per metric
# (`PASS|FAIL <metric> canary=<v> stable=<v> max=… maxOverStable=… [(why)]`); then `RESULT pass`,
# or `RESULT fail` as soon as a request fails or the failed measurements exceed BAKE_FAILURE_LIMIT.
# It always exits 0: the runner reads the verdict, as the smoke test's does.
# Parameters: BAKE_CANARY_URL (the canary Service), BAKE_INTERVAL_SECONDS, BAKE_ROUNDS; BAKE_PATHS,
# how many paths, and BAKE_PATH_<n> for each n from 1; BAKE_METRICS, how many metrics (0: none)
# and with metrics BAKE_PROMETHEUS_URL, BAKE_FAILURE_LIMIT, BAKE_QUERY_TIMEOUT_SECONDS and for each
# n BAKE_METRIC_<n>_NAME, BAKE_METRIC_<n>_CANARY_QUERY, BAKE_METRIC_<n>_STABLE_QUERY (PromQL) and
# BAKE_METRIC_<n>_MAX (the highest canary value), BAKE_METRIC_<n>_MAX_OVER_STABLE (the highest
# canary value minus stable's), either or both; check's MAX_LATENCY_SECONDS and REQUEST_TIMEOUT_SECONDS.
: "${BAKE_CANARY_URL:?the canary Service}" "${BAKE_INTERVAL_SECONDS:?seconds between rounds}" "${BAKE_ROUNDS:?how many rounds}"
: "${BAKE_PATHS:?how many paths}" "${BAKE_METRICS:?how many metrics}"
: "${MAX_LATENCY_SECONDS:?the slowest passing answer}" "${REQUEST_TIMEOUT_SECONDS:?when a request is cut off}"
if [ "$BAKE_METRICS" -gt 0 ]; then
  : "${BAKE_PROMETHEUS_URL:?the Prometheus server}" "${BAKE_FAILURE_LIMIT:?failed measurements allowed}" "${BAKE_QUERY_TIMEOUT_SECONDS:?when a query is cut off}"
fi
failed=0
measurements=0

# sample QUERY: the one value of an instant query, or why there is none (and status 1).
sample() {
  body=$(curl --silent --show-error --max-time "$BAKE_QUERY_TIMEOUT_SECONDS" --get --data-urlencode "query=$1" "$BAKE_PROMETHEUS_URL/api/v1/query" 2>&1) || { echo "unreachable: $(echo "$body" | head -n 1)"; return 1; }
  case "$body" in *'"status":"success"'*) ;; *) echo "query refused: $(echo "$body" | head -c 200)"; return 1 ;; esac
  series=$(printf '%s' "$body" | awk '{ n += gsub(/"value":\[/, "") } END { print n + 0 }')
  [ "$series" = 1 ] || { echo "$series series: the query must return one (aggregate it; add 'or vector(0)' where no traffic is normal)"; return 1; }
  v=$(printf '%s' "$body" | sed -n 's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p')
  awk -v v="$v" 'BEGIN { exit !(v ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) }' || { echo "not a number: $v"; return 1; }
  echo "$v"
}

# measure N: metric N's canary and stable values, judged against its limits; a failed one counts.
# Stable's value is needed only for MAX_OVER_STABLE: without it, no value for stable is no failure.
measure() {
  name=$(parameter "BAKE_METRIC_${1}_NAME") || exit
  canary_query=$(parameter "BAKE_METRIC_${1}_CANARY_QUERY") || exit
  stable_query=$(parameter "BAKE_METRIC_${1}_STABLE_QUERY") || exit
  max=$(printenv "BAKE_METRIC_${1}_MAX") || max=''
  over=$(printenv "BAKE_METRIC_${1}_MAX_OVER_STABLE") || over=''
  limits=${max:+max=$max}
  [ -z "$over" ] || limits="${limits:+$limits }maxOverStable=$over"
  ok=1; why=''
  c=$(sample "$canary_query") || { why="canary $c"; c=none; ok=0; }
  s=$(sample "$stable_query") || { [ -z "$over" ] || { why="${why:+$why; }stable $s"; ok=0; }; s=none; }
  if [ "$ok" = 1 ] && awk -v c="$c" -v s="$s" -v max="$max" -v over="$over" \
    'BEGIN { c += 0; s += 0; exit !((max == "" || c <= max + 0) && (over == "" || c - s <= over + 0)) }'; then verdict=PASS
  else verdict=FAIL; measurements=$((measurements + 1)); fi
  echo "$verdict $name canary=$c stable=$s $limits${why:+ ($why)}"
}

start=$(date +%s)
round=1
while [ "$round" -le "$BAKE_ROUNDS" ]; do
  # Each round at the end of its interval, on the clock: a slow round does not shift the next.
  delay=$((start + round * BAKE_INTERVAL_SECONDS - $(date +%s)))
  if [ "$delay" -gt 0 ]; then sleep "$delay"; fi
  n=1
  while [ "$n" -le "$BAKE_PATHS" ]; do
    probe=$(parameter "BAKE_PATH_${n}") || exit
    check canary "$BAKE_CANARY_URL$probe" || failed=1
    n=$((n + 1))
  done
  [ "$failed" = 0 ] || { echo 'RESULT fail'; exit 0; }
  if [ "$BAKE_METRICS" -gt 0 ]; then
    n=1
    while [ "$n" -le "$BAKE_METRICS" ]; do measure "$n"; n=$((n + 1)); done
    [ "$measurements" -le "$BAKE_FAILURE_LIMIT" ] || { echo 'RESULT fail'; exit 0; }
  fi
  round=$((round + 1))
done
echo 'RESULT pass'
