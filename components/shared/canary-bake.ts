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
// Both scripts are files (components/scripts/bake-runner.sh, bake-pod.sh); this module gives their parameters.
import type { StackConfig } from "../../config/schema";
import { bakePlaceholder, defaultBakeIntervalSeconds } from "../../config/constants";
import { clusterOperations, clusterTargets, type ClusterOperation, type ClusterTargets } from "./cluster-operations";
import {
  composeScript,
  operationPreamble,
  scriptText,
  shellFileParameter,
  shellParameters,
  type ParameterValue,
} from "./script-files";
import { curlPod, requestCheckParameters, requestTimeoutSeconds, serviceBaseUrl, smokeTestImage } from "./smoke-test";

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
export type BakeConfig = Pick<
  StackConfig,
  "appName" | "namespace" | "smokePaths" | "smokeMaxLatencySeconds" | "canaryBakeSeconds" | "canaryAnalysis"
>;

/** The rounds of a bake window of `bakeSeconds` with rounds `intervalSeconds` apart (at least one). */
export const bakeRounds = (bakeSeconds: number, intervalSeconds: number) =>
  Math.max(1, Math.floor(bakeSeconds / intervalSeconds));

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
    ...(analysis
      ? {
          analysis: {
            prometheusUrl: analysis.prometheusUrl.replace(/\/+$/, ""),
            failureLimit: analysis.failureLimit,
            metrics: analysis.metrics,
          },
        }
      : {}),
  };
}

/** The longest one round takes when everything answers at its cut-off. */
const roundSeconds = (spec: BakeSpec) =>
  spec.paths.length * requestTimeoutSeconds(spec.maxLatencySeconds) +
  (spec.analysis?.metrics.length ?? 0) * 2 * queryTimeoutSeconds;

/** How long the pod may run: the window, one round late at every cut-off, and start-up. */
export function bakeDeadlineSeconds(spec: BakeSpec): number {
  return spec.bakeSeconds + roundSeconds(spec) + 60;
}

/** How long the runner's final wait for the pod lasts: past its deadline, so a stuck pod ends the wait. */
const bakeWaitSeconds = (spec: BakeSpec) => bakeDeadlineSeconds(spec) + 30;

/** The bake step's `timeout-minutes`: the runner's window, then its wait, then removing the pod. */
export function bakeStepTimeoutMinutes(spec: BakeSpec): number {
  return Math.ceil((spec.bakeSeconds + bakeDeadlineSeconds(spec) + 30 + 120) / 60);
}

const forTrack = (query: string, track: "canary" | "stable") => query.split(bakePlaceholder).join(track);

/**
 * The pod's parameters (components/scripts/bake-pod.sh). The paths and metrics are numbered from 1
 * (BAKE_PATH_<n>, BAKE_METRIC_<n>_…): the script reads each by its name, never evaluating a value,
 * so a query may hold any character. The canary's and Prometheus' URLs are defaults that the
 * variables of the same names override (bakeUrlVariables: tests run the script on their host).
 */
export function bakePodParameters(spec: BakeSpec): Record<string, ParameterValue> {
  const a = spec.analysis;
  const metric = (m: BakeMetric, n: number): [string, ParameterValue][] => [
    [`BAKE_METRIC_${n}_NAME`, m.name],
    [`BAKE_METRIC_${n}_CANARY_QUERY`, forTrack(m.query, "canary")],
    [`BAKE_METRIC_${n}_STABLE_QUERY`, forTrack(m.query, "stable")],
    ...(m.max !== undefined ? [[`BAKE_METRIC_${n}_MAX`, m.max] as [string, number]] : []),
    ...(m.maxOverStable !== undefined
      ? [[`BAKE_METRIC_${n}_MAX_OVER_STABLE`, m.maxOverStable] as [string, number]]
      : []),
  ];
  return {
    [bakeUrlVariables.canary]: { default: serviceBaseUrl(spec.targets.namespace, spec.targets.canaryService) },
    BAKE_INTERVAL_SECONDS: spec.intervalSeconds,
    BAKE_ROUNDS: bakeRounds(spec.bakeSeconds, spec.intervalSeconds),
    BAKE_PATHS: spec.paths.length,
    ...Object.fromEntries(spec.paths.map((p, i) => [`BAKE_PATH_${i + 1}`, p])),
    ...requestCheckParameters(spec.maxLatencySeconds),
    BAKE_METRICS: a?.metrics.length ?? 0,
    ...(a
      ? {
          [bakeUrlVariables.prometheus]: { default: a.prometheusUrl },
          BAKE_FAILURE_LIMIT: a.failureLimit,
          BAKE_QUERY_TIMEOUT_SECONDS: queryTimeoutSeconds,
          ...Object.fromEntries(a.metrics.flatMap((m, i) => metric(m, i + 1))),
        }
      : {}),
  };
}

/**
 * The script the pod runs: its parameters, then pod-functions.sh and bake-pod.sh. Every interval
 * until the window ends, one request per smoke path through the canary Service
 * (`PASS|FAIL canary <status> <seconds>s <url>`) and, with canaryAnalysis, one measurement per metric
 * (`PASS|FAIL <metric> canary=<v> stable=<v> max=… maxOverStable=… [why]`); then `RESULT pass`, or
 * `RESULT fail` as soon as a probe fails or the failed measurements exceed failureLimit. It always
 * exits 0: the runner reads the verdict, as the smoke test's does.
 */
export function bakePodScript(spec: BakeSpec): string {
  return composeScript(
    shellParameters(bakePodParameters(spec), { exported: true }),
    scriptText("pod-functions.sh"),
    scriptText("bake-pod.sh"),
  );
}

/** The bake pod: the smoke test's hardened curl pod, running the bake script. */
export function bakePod(spec: BakeSpec): Record<string, unknown> {
  return curlPod({
    name: spec.podName,
    namespace: spec.targets.namespace,
    appName: spec.appName,
    role: "canary-bake",
    script: bakePodScript(spec),
    deadlineSeconds: bakeDeadlineSeconds(spec),
  });
}

/** The cluster operations of the bake window's runner, by the name it calls each by (in order of first use). */
export type BakeOperations = {
  readonly removePod: ClusterOperation;
  /** The canary's pods, one line each (clusterOperations.podStates). */
  readonly canaryPodStates: ClusterOperation;
  /** Its argument: the manifest's file. */
  readonly createPod: ClusterOperation;
  readonly podLogs: ClusterOperation;
  /** The pod's phase, which the runner polls until it has finished (pod-wait.sh). */
  readonly podPhase: ClusterOperation;
};

/** The cluster operations the runner performs (operationList: the Role's). */
export function bakeOperations(spec: BakeSpec): BakeOperations {
  const t = spec.targets;
  return {
    removePod: clusterOperations.deletePod(t, spec.podName),
    canaryPodStates: clusterOperations.podStates(t, t.canarySelector),
    createPod: clusterOperations.createPod(t, { name: spec.podName, image: smokeTestImage }),
    podLogs: clusterOperations.podLogs(t, spec.podName),
    podPhase: clusterOperations.podPhase(t, spec.podName),
  };
}

/**
 * The runner, a bash script for the canary job's step after the smoke test: its operations'
 * functions, its parameters and the pod's manifest, then components/scripts/bake-runner.sh, which
 * starts the pod and, until the window ends, looks every few seconds at the canary's pods (one not
 * ready, or restarted since the bake began, fails it at once) and at the pod's report (`RESULT fail`
 * ends the wait); then it waits for the pod, prints its report (and a table in
 * $GITHUB_STEP_SUMMARY), removes the pod and fails unless the report says `RESULT pass`.
 */
export function bakeRunner(spec: BakeSpec): string {
  return composeScript(
    operationPreamble(bakeOperations(spec)),
    shellParameters({
      BAKE_SECONDS: spec.bakeSeconds,
      BAKE_CHECK_SECONDS: bakeCheckSeconds,
      POD_WAIT_SECONDS: bakeWaitSeconds(spec),
    }),
    shellFileParameter("BAKE_POD_MANIFEST", JSON.stringify(bakePod(spec), null, 2)),
    scriptText("retrying.sh"),
    scriptText("pod-wait.sh"),
    scriptText("bake-runner.sh"),
  );
}
