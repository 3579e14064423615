// The bake window: after the smoke test the canary job holds the canary for canaryBakeSeconds and
// judges it throughout, as Argo Rollouts' `pause` step with an AnalysisRun beside it, but with no
// controller in the cluster. Two parts:
//   - a pod (the smoke test's hardened curl pod) that, every interval, requests each smoke path
//     through the canary Service and, with canaryAnalysis, queries Prometheus for each metric of
//     the canary and of stable, from inside the cluster (the deployer needs no network path);
//   - the runner on the job's machine, which starts that pod and meanwhile watches the canary's
//     pods as the deployer: one that restarts or turns unready fails the bake at once.
// Rules: a probe request that fails (not 200, no answer, slower than smokeMaxLatencySeconds) fails
// the bake at once, as in the smoke test: every such request reached a canary pod, so it is a
// failure of the canary, and one rule for both keeps the detection chances of docs/pipeline.md
// one formula. A measurement that fails (over its threshold, no value, Prometheus unreachable)
// counts against failureLimit, and the bake fails when the count exceeds it (Argo Rollouts,
// AnalysisRun `failureLimit`): the metrics path can fail for reasons that are not the canary's.
import type { StackConfig } from "../../config/schema";
import { bakePlaceholder, defaultBakeIntervalSeconds } from "../../config/constants";
import { clusterOperations, clusterTargets, type ClusterOperation, type ClusterTargets } from "./cluster-operations";
import { curlPod, requestCheck, requestTimeoutSeconds, serviceBaseUrl, smokeTestImage } from "./smoke-test";

// The placeholder of a metric's query (`$track`) and the default interval: in config/constants.ts,
// which the settings' rules read too.
export { bakePlaceholder, defaultBakeIntervalSeconds };
/** Seconds between two looks of the runner at the canary's pods and the bake pod's report. */
export const bakeCheckSeconds = 5;
/** A Prometheus query is cut off after this. */
const queryTimeoutSeconds = 10;
/** The environment variables that point the pod's script elsewhere (tests run it on their host). */
export const bakeUrlVariables = { canary: "BAKE_CANARY_URL", prometheus: "BAKE_PROMETHEUS_URL" } as const;

export interface BakeMetric {
  readonly name: string;
  /** PromQL with `$track`. */
  readonly query: string;
  /** The highest acceptable canary value. */
  readonly max?: number;
  /** The highest acceptable canary value minus stable's. */
  readonly maxOverStable?: number;
}

export interface BakeSpec {
  readonly targets: ClusterTargets & { readonly canaryService: string };
  readonly appName: string;
  readonly podName: string;
  readonly bakeSeconds: number;
  readonly intervalSeconds: number;
  /** Paths probed through the canary Service, one request each per round. */
  readonly paths: readonly string[];
  readonly maxLatencySeconds: number;
  readonly analysis?: {
    readonly prometheusUrl: string;
    readonly failureLimit: number;
    readonly metrics: readonly BakeMetric[];
  };
}

/** The settings the bake window reads. */
export type BakeConfig = Pick<StackConfig, "appName" | "namespace" | "smokePaths" | "smokeMaxLatencySeconds" | "canaryBakeSeconds" | "canaryAnalysis">;

/** The rounds of a bake window of `bakeSeconds` with rounds `intervalSeconds` apart (at least one). */
export const bakeRounds = (bakeSeconds: number, intervalSeconds: number) => Math.max(1, Math.floor(bakeSeconds / intervalSeconds));

/** The bake window's settings from the stack's; undefined when canaryBakeSeconds is 0 (no bake step). */
export function bakeSpec(config: BakeConfig): BakeSpec | undefined {
  if (config.canaryBakeSeconds === 0) return undefined;
  const targets = clusterTargets(config);
  const analysis = config.canaryAnalysis;
  return {
    targets,
    appName: config.appName,
    podName: targets.bakePod,
    bakeSeconds: config.canaryBakeSeconds,
    intervalSeconds: analysis?.intervalSeconds ?? Math.min(defaultBakeIntervalSeconds, config.canaryBakeSeconds),
    paths: config.smokePaths,
    maxLatencySeconds: config.smokeMaxLatencySeconds,
    ...(analysis ? { analysis: { prometheusUrl: analysis.prometheusUrl.replace(/\/+$/, ""), failureLimit: analysis.failureLimit, metrics: analysis.metrics } } : {}),
  };
}

/** The longest one round takes when everything answers at its cut-off. */
const roundSeconds = (spec: BakeSpec) =>
  spec.paths.length * requestTimeoutSeconds(spec.maxLatencySeconds) + (spec.analysis?.metrics.length ?? 0) * 2 * queryTimeoutSeconds;

/** How long the pod may run: the window, one round late at every cut-off, and start-up. */
export function bakeDeadlineSeconds(spec: BakeSpec): number {
  return spec.bakeSeconds + roundSeconds(spec) + 60;
}

/** How long the runner's final wait for the pod lasts: past its deadline, so a stuck pod ends the wait. */
const bakeWaitTimeout = (spec: BakeSpec) => `${bakeDeadlineSeconds(spec) + 30}s`;

/** The bake step's `timeout-minutes`: the runner's window, then its wait, then removing the pod. */
export function bakeStepTimeoutMinutes(spec: BakeSpec): number {
  return Math.ceil((spec.bakeSeconds + bakeDeadlineSeconds(spec) + 30 + 120) / 60);
}

const sh = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;
const forTrack = (query: string, track: "canary" | "stable") => query.split(bakePlaceholder).join(track);

/** The awk condition a metric's values must meet (c: canary, s: stable). */
function metricCondition(m: BakeMetric): string {
  return [m.max !== undefined ? `c <= ${m.max}` : "", m.maxOverStable !== undefined ? `c - s <= ${m.maxOverStable}` : ""].filter(Boolean).join(" && ");
}

const limitsOf = (m: BakeMetric) =>
  [m.max !== undefined ? `max=${m.max}` : "", m.maxOverStable !== undefined ? `maxOverStable=${m.maxOverStable}` : ""].filter(Boolean).join(" ");

/**
 * The script the pod runs (POSIX sh and busybox: no jq). Every interval until the window ends, one
 * request per smoke path through the canary Service (`PASS|FAIL canary <status> <seconds>s <url>`)
 * and, with canaryAnalysis, one measurement per metric
 * (`PASS|FAIL <metric> canary=<v> stable=<v> max=… maxOverStable=… [why]`); then `RESULT pass`, or
 * `RESULT fail` as soon as a probe fails or the failed measurements exceed failureLimit. It always
 * exits 0: the runner reads the verdict, as the smoke test's does.
 */
export function bakePodScript(spec: BakeSpec): string {
  const canaryUrl = serviceBaseUrl(spec.targets.namespace, spec.targets.canaryService);
  const a = spec.analysis;
  const analysis = a ? [
    `prometheus="\${${bakeUrlVariables.prometheus}:-${a.prometheusUrl}}"`,
    `limit=${a.failureLimit}`,
    "measurements=0",
    "# One sample of an instant query: its value, or why there is none (and status 1).",
    "sample() {",
    `  body=$(curl --silent --show-error --max-time ${queryTimeoutSeconds} --get --data-urlencode "query=$1" "$prometheus/api/v1/query" 2>&1) || { echo "unreachable: $(echo "$body" | head -n 1)"; return 1; }`,
    "  case \"$body\" in *'\"status\":\"success\"'*) ;; *) echo \"query refused: $(echo \"$body\" | head -c 200)\"; return 1 ;; esac",
    "  n=$(printf '%s' \"$body\" | awk '{ n += gsub(/\"value\":\\[/, \"\") } END { print n + 0 }')",
    "  [ \"$n\" = 1 ] || { echo \"$n series: the query must return one (aggregate it; add 'or vector(0)' where no traffic is normal)\"; return 1; }",
    "  v=$(printf '%s' \"$body\" | sed -n 's/.*\"value\":\\[[^,]*,\"\\([^\"]*\\)\"\\].*/\\1/p')",
    "  awk -v v=\"$v\" 'BEGIN { exit !(v ~ /^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$/) }' || { echo \"not a number: $v\"; return 1; }",
    "  echo \"$v\"",
    "}",
    "# measure NAME CANARY_QUERY STABLE_QUERY AWK_CONDITION NEEDS_STABLE LIMITS",
    "measure() {",
    "  ok=1; why=''",
    "  c=$(sample \"$2\") || { why=\"canary $c\"; c=none; ok=0; }",
    "  s=$(sample \"$3\") || { [ \"$5\" = 0 ] || { why=\"${why:+$why; }stable $s\"; ok=0; }; s=none; }",
    "  if [ \"$ok\" = 1 ] && awk -v c=\"$c\" -v s=\"$s\" \"BEGIN { c += 0; s += 0; exit !($4) }\"; then verdict=PASS",
    "  else verdict=FAIL; measurements=$((measurements + 1)); fi",
    "  echo \"$verdict $1 canary=$c stable=$s $6${why:+ ($why)}\"",
    "}",
  ] : [];
  const round = [
    ...spec.paths.map((p) => `  check canary "$canary"${sh(p)}`),
    "  [ \"$failed\" = 0 ] || { echo 'RESULT fail'; exit 0; }",
    ...(a ? [
      ...a.metrics.map((m) => `  measure ${sh(m.name)} ${sh(forTrack(m.query, "canary"))} ${sh(forTrack(m.query, "stable"))} ${sh(metricCondition(m))} ${m.maxOverStable !== undefined ? 1 : 0} ${sh(limitsOf(m))}`),
      "  [ \"$measurements\" -le \"$limit\" ] || { echo \"RESULT fail\"; exit 0; }",
    ] : []),
  ];
  return [
    `canary="\${${bakeUrlVariables.canary}:-${canaryUrl}}"`,
    `interval=${spec.intervalSeconds}`,
    `rounds=${bakeRounds(spec.bakeSeconds, spec.intervalSeconds)}`,
    ...requestCheck(spec.maxLatencySeconds),
    ...analysis,
    "start=$(date +%s)",
    "round=1",
    "while [ \"$round\" -le \"$rounds\" ]; do",
    "  # Each round at the end of its interval, on the clock: a slow round does not shift the next.",
    "  wait=$((start + round * interval - $(date +%s)))",
    "  if [ \"$wait\" -gt 0 ]; then sleep \"$wait\"; fi",
    ...round,
    "  round=$((round + 1))",
    "done",
    "echo 'RESULT pass'",
  ].join("\n");
}

/** The bake pod: the smoke test's hardened curl pod, running the bake script. */
export function bakePod(spec: BakeSpec): Record<string, unknown> {
  return curlPod({
    name: spec.podName, namespace: spec.targets.namespace, appName: spec.appName, role: "canary-bake",
    script: bakePodScript(spec), deadlineSeconds: bakeDeadlineSeconds(spec),
  });
}

/** The cluster operations the runner performs, in order of first use. */
export function bakeOperations(spec: BakeSpec, manifestFile: string): ClusterOperation[] {
  const t = spec.targets;
  return [
    clusterOperations.deletePod(t, spec.podName),
    clusterOperations.podStates(t, t.canarySelector),
    clusterOperations.createPod(t, manifestFile, { name: spec.podName, image: smokeTestImage }),
    clusterOperations.podLogs(t, spec.podName),
    clusterOperations.waitPod(t, spec.podName, bakeWaitTimeout(spec)),
  ];
}

/**
 * The runner, a bash script for the canary job's step after the smoke test: it writes the pod's
 * manifest, starts the pod and, until the window ends, looks every few seconds at the canary's
 * pods (one not ready, or restarted since the bake began, fails it at once) and at the pod's report
 * (`RESULT fail` ends the wait); then it waits for the pod, prints its report (and a table in
 * $GITHUB_STEP_SUMMARY), removes the pod and fails unless the report says `RESULT pass`.
 */
export function bakeRunner(spec: BakeSpec): string {
  const [remove, health, create, logs, wait] = bakeOperations(spec, '"$manifest"').map((o) => o.command);
  return [
    "set -euo pipefail",
    'manifest="$(mktemp)"',
    `cat > "$manifest" <<'MANIFEST'`,
    JSON.stringify(bakePod(spec), null, 2),
    "MANIFEST",
    'report=""',
    "summary() {",
    '  if [ -z "${GITHUB_STEP_SUMMARY:-}" ]; then return 0; fi',
    `  { echo "### Bake window (${spec.bakeSeconds} s)"; echo; echo "$1"; echo; echo "| verdict | check | result |"; echo "|---|---|---|";`,
    "    echo \"$report\" | awk '$1 == \"PASS\" || $1 == \"FAIL\" { v = $1; c = $2; $1 = \"\"; $2 = \"\"; sub(/^ +/, \"\"); print \"| \" v \" | \" c \" | \" $0 \" |\" }'; } >> \"$GITHUB_STEP_SUMMARY\"",
    "}",
    'fail() { echo "::error::canary bake: $1"; summary "- failed: $1"; exit 1; }',
    "# Each canary pod's restarts when the bake began; a pod created since counts from 0.",
    "declare -A restarts=()",
    "canary_health() {",
    "  local pods name total ready",
    `  pods="$(${health})" || fail "cannot read the canary's pods"`,
    '  [ -n "$pods" ] || fail "the canary has no pods"',
    "  while IFS='|' read -r name _ _ total ready; do",
    "    total=${total:-0}",
    '    if [ "$1" = begin ]; then restarts[$name]=$total; fi',
    '    [ "$ready" = True ] || fail "canary pod $name is not ready"',
    '    [ "$total" -le "${restarts[$name]:-0}" ] || fail "canary pod $name restarted ($total restarts, ${restarts[$name]:-0} when the bake began)"',
    '  done <<< "$pods"',
    "}",
    remove,
    `trap '${remove.replace(/'/g, "'\\''")}' EXIT`,
    "canary_health begin",
    create,
    // Whole seconds: one more, so that the window is never shorter than bakeSeconds (a start at
    // x.9 s would otherwise end it up to a second early).
    `end=$(($(date +%s) + ${spec.bakeSeconds} + 1))`,
    'while [ "$(date +%s)" -lt "$end" ]; do',
    `  left=$((end - $(date +%s))); sleep $((left < ${bakeCheckSeconds} ? (left > 0 ? left : 0) : ${bakeCheckSeconds}))`,
    "  canary_health during",
    `  report="$(${logs} 2>/dev/null)" || report=""`,
    '  if grep -qx "RESULT fail" <<< "$report"; then break; fi',
    "done",
    `${wait} >/dev/null || { ${logs} || true; fail "the bake pod did not finish"; }`,
    `report="$(${logs})"`,
    'echo "$report"',
    'grep -qx "RESULT pass" <<< "$report" || fail "the bake pod judged the canary failed (FAIL lines above)"',
    'summary "- passed"',
  ].join("\n");
}
