# shellcheck shell=bash
# The rollout watch (bash, a fragment of a workflow step): waits for a Deployment's rollout and fails
# as soon as a pod of the new image will never become ready (a waiting reason in HOPELESS_REASONS,
# or a restart: a pod of a new release that restarted has crashed), rather than at the rollout's
# timeout. The rollout's own wait fails at the Deployment's progressDeadlineSeconds.
# Cluster operations (the preamble's functions): rollout_status, pod_states (one line per pod,
# `name|image|waiting reason|restarts|ready`); retrying from retrying.sh (a failed read of the
# pods is tried again, up to its bound, before it fails the watch).
# Parameters: ROLLOUT_IMAGE, the image the new pods run; HOPELESS_REASONS, the waiting reasons of a
# container that will not become ready without a change, separated by `|`; ROLLOUT_CHECK_SECONDS,
# the time between two looks at the pods.
: "${ROLLOUT_IMAGE:?the image of the new pods}" "${HOPELESS_REASONS:?the hopeless waiting reasons}" "${ROLLOUT_CHECK_SECONDS:?seconds between looks}"
rollout_status &
rollout=$!
while kill -0 "$rollout" 2>/dev/null; do
  hopeless="$(retrying pod_states | awk -F'|' -v image="$ROLLOUT_IMAGE" -v reasons="^($HOPELESS_REASONS)\$" \
    '$2 == image && ($3 ~ reasons || $4 > 0) { print $1 ": " ($3 == "" ? "restarted " $4 " time(s)" : $3) }')"
  if [ -n "$hopeless" ]; then
    # The rollout's function runs in a subshell of its own: its command is that subshell's child.
    pkill -P "$rollout" 2>/dev/null || true
    kill "$rollout" 2>/dev/null || true
    echo "::error::pods of the new image will not become ready: $hopeless"
    exit 1
  fi
  sleep "$ROLLOUT_CHECK_SECONDS"
done
wait "$rollout"
