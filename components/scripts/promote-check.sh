# shellcheck shell=bash
# The promotion's check at the moment it acts (bash, a workflow step's script). The job's inputs are
# the canary job's outputs, which a re-run of failed jobs reuses however old they are; so what
# stable is about to run is read from the cluster, not from them. It refuses unless the canary was
# deployed by this run (not an older or newer run's), runs exactly the release's image, has not
# expired, has every pod ready and none restarted, and stable does not run a newer release (unless
# this run is an explicit rollback).
# Cluster operations (the preamble's functions): read_canary_state (`expiry|run|image|replicas|ready|
# updated|resourceVersion`), canary_pod_states (`name|image|waiting reason|restarts|ready`),
# stable_release; retrying from retrying.sh.
# Parameters: RELEASE_IMAGE (image@digest), RELEASE (its number), ROLLBACK (true: older allowed),
# LIFETIME_MINUTES (for the message).
: "${RELEASE_IMAGE:?the image@digest}" "${RELEASE:?the release number}" "${ROLLBACK:?true or false}" \
  "${LIFETIME_MINUTES:?the canary lifetime}" "${GITHUB_RUN_ID:?the run}"
refuse() { echo "::error::not promoted: $1"; exit 1; }
# Read first: a failed read in a here-string would not stop the script (set -e ignores it there).
state="$(retrying read_canary_state)" || refuse "cannot read the canary's Deployment"
IFS='|' read -r expires run image replicas ready updated _ <<< "$state"
[ "$run" = "$GITHUB_RUN_ID" ] ||
  refuse "the canary was deployed by run ${run:-(none)}, not by this run ($GITHUB_RUN_ID): a run promotes only the canary it deployed and judged (a re-run of an older run's jobs reuses that run's outputs); release again"
[ "$image" = "$RELEASE_IMAGE" ] || refuse "the canary runs $image, not $RELEASE_IMAGE"
if [ -z "$expires" ] || [ "$(date +%s)" -ge "$expires" ]; then
  refuse "the canary expired at ${expires:-an unknown time} (canaryLifetimeMinutes $LIFETIME_MINUTES): it was approved too late and is scaled to 0; release again"
fi
if [ "${replicas:-0}" -eq 0 ] || [ "${ready:-0}" -lt "$replicas" ] || [ "${updated:-0}" -lt "$replicas" ]; then
  refuse "the canary is not healthy: ${ready:-0} of ${replicas:-0} pod(s) ready"
fi
unhealthy="$(retrying canary_pod_states | awk -F'|' '$4 > 0 || $5 != "True" { print $1 ": " ($5 != "True" ? "not ready" : "restarted " $4 " time(s)") }')"
[ -z "$unhealthy" ] || refuse "the canary's pods are not healthy: $unhealthy"
current="$(retrying stable_release)"
if [ -n "$current" ] && [ "$RELEASE" -lt "$current" ] && [ "$ROLLBACK" != true ]; then
  refuse "stable runs release $current, newer than release $RELEASE: a re-run cannot move stable back in time; to roll back, run the workflow by hand with the digest"
fi
echo "the canary is this run's, runs $RELEASE_IMAGE with ${ready} of ${replicas} pod(s) ready; stable runs release ${current:-(none)}"
