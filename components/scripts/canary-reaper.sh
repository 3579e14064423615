# shellcheck shell=sh
# The canary reaper's script (POSIX sh, busybox: no jq), run by its CronJob every
# minute. It reads the canary Deployment and its last line says what it did: `reaped`, `not
# expired`, `at rest`, `no expiry` or `conflict`. Those exit 0; a failed request or an unreadable
# answer exits REAPER_ERROR_EXIT. An expiry that is not a number counts as expired: a canary whose
# deadline cannot be read must not serve.
# The scale-down carries the resourceVersion it read, so the API server refuses it (409 Conflict)
# when the Deployment changed since (optimistic concurrency): a new release that re-armed the canary
# in between is never reaped. On a conflict it reads and judges again, up to REAPER_ATTEMPTS times
# (the Deployment's status updates change its resourceVersion as well); then it leaves the canary
# to the next run.
# API requests (the preamble's functions, each reading its credential on stdin and printing the
# answer, then the HTTP status on a line of its own): read_canary, reap_canary RESOURCE_VERSION.
# Parameters: REAPER_CANARY, the canary Deployment; REAPER_EXPIRY_ANNOTATION, the annotation that
# holds its expiry (Unix seconds); REAPER_ATTEMPTS; REAPER_ERROR_EXIT; API_SERVER, TOKEN_FILE and
# CA_FILE, where the API server, the pod's token and the cluster's CA are.
: "${REAPER_CANARY:?the canary Deployment}" "${REAPER_EXPIRY_ANNOTATION:?the expiry annotation}"
: "${REAPER_ATTEMPTS:?reads before a conflict is left to the next run}" "${REAPER_ERROR_EXIT:?the exit status of an error}"
: "${API_SERVER:?the API server}" "${TOKEN_FILE:?the token file}" "${CA_FILE:?the CA file}"
canary=$REAPER_CANARY
fail() { echo "error: $canary: $*"; exit "$REAPER_ERROR_EXIT"; }
# The token goes to each request on stdin (a config line), never on a command line.
auth() { printf 'header = "Authorization: Bearer %s"\n' "$(cat "$TOKEN_FILE")"; }
status() { printf '%s\n' "$1" | tail -n 1; }
# field PATTERN: PATTERN's group (a sed BRE) where the key it starts with is one of the object's
# own, after `{` or `,`, never one quoted inside a string value (`\"`).
field() { sed -n "s/.*[{,] *$1.*/\\1/p"; }
# An annotation key holds letters, digits, `-`, `_`, `.` and one `/`: `.` and `/` escaped for sed.
annotation=$(printf '%s\n' "$REAPER_EXPIRY_ANNOTATION" | sed 's/[./]/\\&/g')
# Read, judge, patch; on a conflict, read and judge again: the canary's own status changes its
# resourceVersion too (the Deployment controller's updates), a re-armed expiry changes the verdict.
attempt=1
while :; do
  response=$(auth | read_canary) || fail "the API server did not answer"
  code=$(status "$response"); body=$(printf '%s\n' "$response" | sed '$d' | tr -d '\n')
  [ "$code" = 200 ] || fail "reading it answered HTTP $code: $(printf '%s' "$body" | head -c 300)"
  expires=$(printf '%s' "$body" | field "\"$annotation\": *\"\\([^\"]*\\)\"")
  replicas=$(printf '%s' "$body" | field '"spec": *{ *"replicas": *\([0-9]*\)')
  version=$(printf '%s' "$body" | field '"resourceVersion": *"\([0-9]*\)"')
  if [ -z "$replicas" ] || [ -z "$version" ]; then fail "its answer holds no spec.replicas or resourceVersion"; fi
  if [ -z "$expires" ]; then echo "no expiry: $canary records none, nothing to do"; exit 0; fi
  if [ "$replicas" = 0 ]; then echo "at rest: $canary has 0 replicas"; exit 0; fi
  now=$(date +%s)
  case "$expires" in
    *[!0-9]*) ;; # unreadable: treated as expired
    *) if [ "$now" -lt "$expires" ]; then echo "not expired: $canary expires at $expires, in $((expires - now)) s"; exit 0; fi ;;
  esac
  response=$(auth | reap_canary "$version") || fail "the API server did not answer the scale-down"
  code=$(status "$response")
  case "$code" in
    200) echo "reaped: $canary scaled from $replicas to 0 replicas (expires-at $expires, now $now)"; exit 0 ;;
    409) if [ "$attempt" -ge "$REAPER_ATTEMPTS" ]; then echo "conflict: $canary changed after each of $REAPER_ATTEMPTS reads; left alone, the next run judges it"; exit 0; fi
      echo "conflict: $canary changed since it was read (resourceVersion $version); reading it again"; attempt=$((attempt + 1)) ;;
    *) fail "the scale-down answered HTTP $code: $(printf '%s\n' "$response" | sed '$d' | tr -d '\n' | head -c 300)" ;;
  esac
done
