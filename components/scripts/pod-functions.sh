# shellcheck shell=sh
# The functions the smoke-test and the bake pods' scripts share, put ahead of each (POSIX sh, busybox
# in the curl image).

# parameter NAME: the value of the parameter NAME, a computed name such as SMOKE_TARGET_2_URL (read
# with printenv: the value is never evaluated); a parameter that is not set ends the script.
parameter() { printenv "$1" || { echo "$1 is not set" >&2; exit 2; }; }

# check SERVICE URL: one request, one line `PASS|FAIL <service> <status> <seconds>s <url>`. A status
# other than 200, a failed connection or an answer slower than MAX_LATENCY_SECONDS fails it: it
# returns 1. A request is cut off after REQUEST_TIMEOUT_SECONDS, one second past the latency limit.
check() {
  out=$(curl --silent --output /dev/null --max-time "$REQUEST_TIMEOUT_SECONDS" --write-out '%{http_code} %{time_total}' "$2") || out="000 ${out#* }"
  status=${out% *}; seconds=${out#* }
  if [ "$status" = 200 ] && awk -v s="$seconds" -v m="$MAX_LATENCY_SECONDS" 'BEGIN { exit !(s <= m) }'; then verdict=PASS; else verdict=FAIL; fi
  echo "$verdict $1 $status ${seconds}s $2"
  [ "$verdict" = PASS ]
}
