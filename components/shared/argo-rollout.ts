// The Argo Rollouts engine (canaryEngine argo-rollouts): the Rollout's canary strategy and its
// AnalysisTemplates, derived from the same settings the pipeline engine reads, computed once and
// read by the cluster side (the objects) and the deploy workflow (which step index means what).
// The controller walks the steps; the workflow only sets the image, waits for the verdict,
// promotes after the environment's approval, and aborts when its run ends without a promotion.
//
// Steps, by index:
//   0  setWeight canaryWeight          the canary's pods beside stable's, by replica ratio
//   1  analysis <app>-smoke-test       each smoke path, smokeRequests times, through the canary Service
//   2  analysis <app>-bake             (canaryBakeSeconds > 0) probes and canaryAnalysis, for the window
//   n  pause canaryLifetime - the above   "Paused for approval": the promote job's promoteFull skips the rest
//   n+1 setWeight 0                     the lifetime is over: no canary pod serves, stable takes everything
//   n+2 pause (indefinite)              until the next release; nothing is promoted without the pipeline
// A failed or errored measurement aborts the Rollout (Argo Rollouts: an AnalysisRun Failed or
// Error aborts), which scales the canary to 0 with no pipeline step.
import type { StackConfig } from "../../config/schema";
import { bakePlaceholder } from "../../config/constants";
import { bakeRounds, bakeSpec, type BakeMetric } from "./canary-bake";
import { clusterTargets } from "./cluster-operations";
import { defaultSmokeRequests, serviceBaseUrl } from "./smoke-test";

/** The Rollout API the engine declares (Argo Rollouts' CRDs serve argoproj.io/v1alpha1). */
export const rolloutApiVersion = "argoproj.io/v1alpha1";
/** The CustomResourceDefinitions the stack reads to check the controller is installed. */
export const argoRolloutsCrds = ["rollouts.argoproj.io", "analysistemplates.argoproj.io", "analysisruns.argoproj.io"];

/** Seconds between two smoke requests of one path (a web measurement each). */
const smokeIntervalSeconds = 1;
/** A Prometheus query is cut off after this (the pipeline engine's bake pod uses the same). */
const queryTimeoutSeconds = 10;

/** The settings the engine reads. */
export type RolloutConfig = Pick<
  StackConfig,
  | "appName"
  | "namespace"
  | "canaryWeight"
  | "smokePaths"
  | "smokeRequests"
  | "smokeMaxLatencySeconds"
  | "canaryBakeSeconds"
  | "canaryAnalysis"
  | "canaryLifetimeMinutes"
>;

/** One Argo Rollouts metric, as an AnalysisTemplate lists it. */
export interface RolloutMetric {
  readonly name: string;
  readonly interval?: string;
  readonly count: number;
  readonly failureLimit: number;
  readonly consecutiveErrorLimit: number;
  readonly successCondition?: string;
  readonly provider:
    | { readonly web: { readonly url: string; readonly timeoutSeconds: number } }
    | { readonly prometheus: { readonly address: string; readonly query: string; readonly timeout: number } };
}

/** An AnalysisTemplate: its name and its metrics. */
export interface AnalysisTemplatePlan {
  readonly name: string;
  readonly metrics: readonly RolloutMetric[];
}

/** One step of the canary strategy. */
export type RolloutStep =
  | { readonly setWeight: number }
  | { readonly analysis: { readonly templates: readonly { readonly templateName: string }[] } }
  | { readonly pause: { readonly duration?: string } };

export interface RolloutPlan {
  /** The Rollout's name: the app's (the stable Deployment's name in the pipeline engine). */
  readonly name: string;
  /** The Services the controller points at the canary's and at stable's pods (it adds a pod-template-hash to their selectors). */
  readonly canaryService: string;
  readonly stableService: string;
  readonly steps: readonly RolloutStep[];
  readonly templates: readonly AnalysisTemplatePlan[];
  /** The step the canary waits at for the environment's approval ("Paused for approval"). */
  readonly approvalStep: number;
  /** How long it waits there before the controller takes the canary's weight back to 0. */
  readonly approvalPauseSeconds: number;
  /** The step it rests at once the canary's lifetime is over. */
  readonly expiredStep: number;
  /** How long the analysis steps take at least: the smoke requests, then the bake's rounds. */
  readonly analysisSeconds: number;
}

/** A path as part of a metric's name: the first path `/api/v1/orders` → `1-api-v1-orders` (unique by its index). */
const pathLabel = (index: number, path: string) =>
  `${index + 1}-${path
    .replace(/[^a-z0-9]+/gi, "-")
    .replace(/^-+/, "")
    .toLowerCase()}`
    .slice(0, 40)
    .replace(/-+$/, "");

/** The web metric that requests `path` through the canary Service; any non-2xx answer or a timeout aborts. */
function probe(config: RolloutConfig, prefix: string, index: number, path: string, count: number, interval: number) {
  const t = clusterTargets(config);
  return {
    name: `${prefix}-${pathLabel(index, path)}`,
    ...(count > 1 ? { interval: `${interval}s` } : {}),
    count,
    failureLimit: 0,
    // Argo's web provider reports a non-2xx answer or no answer as an Error, not a failure.
    consecutiveErrorLimit: 0,
    provider: {
      web: {
        url: `${serviceBaseUrl(config.namespace, t.canaryService)}${path}`,
        // Whole seconds only: the smoke latency rounded up (docs/pipeline.md, "The two engines").
        timeoutSeconds: Math.ceil(config.smokeMaxLatencySeconds),
      },
    },
  } satisfies RolloutMetric;
}

const forTrack = (query: string, track: "canary" | "stable") => query.split(bakePlaceholder).join(track);

/** A canaryAnalysis metric as one or two prometheus metrics: the canary's value, and its excess over stable's. */
function prometheusMetrics(
  metric: BakeMetric,
  analysis: { prometheusUrl: string; failureLimit: number },
  count: number,
  interval: number,
): RolloutMetric[] {
  const common = {
    ...(count > 1 ? { interval: `${interval}s` } : {}),
    count,
    failureLimit: analysis.failureLimit,
    // An unreachable Prometheus is an Error in Argo's terms: tolerated as often as a failure.
    consecutiveErrorLimit: analysis.failureLimit,
  };
  const prometheus = (query: string) => ({
    prometheus: { address: analysis.prometheusUrl, query, timeout: queryTimeoutSeconds },
  });
  // No value (an empty result, NaN) fails the measurement, as in the pipeline engine's bake.
  const atMost = (limit: number) => `len(result) > 0 && result[0] <= ${limit}`;
  const canary = forTrack(metric.query, "canary");
  return [
    ...(metric.max !== undefined
      ? [{ name: metric.name, ...common, successCondition: atMost(metric.max), provider: prometheus(canary) }]
      : []),
    ...(metric.maxOverStable !== undefined
      ? [
          {
            name: `${metric.name}-over-stable`,
            ...common,
            successCondition: atMost(metric.maxOverStable),
            provider: prometheus(`vector(scalar(${canary}) - scalar(${forTrack(metric.query, "stable")}))`),
          },
        ]
      : []),
  ];
}

/** The Rollout's strategy and templates, from the settings. */
export function rolloutPlan(config: RolloutConfig): RolloutPlan {
  const t = clusterTargets(config);
  const requests = config.smokeRequests ?? defaultSmokeRequests;
  const smokeTest: AnalysisTemplatePlan = {
    name: `${config.appName}-smoke-test`,
    metrics: config.smokePaths.map((p, i) => probe(config, "smoke", i, p, requests, smokeIntervalSeconds)),
  };
  const bake = bakeSpec(config);
  const rounds = bake ? bakeRounds(bake.bakeSeconds, bake.intervalSeconds) : 0;
  const bakeTemplate: AnalysisTemplatePlan | undefined = bake && {
    name: `${config.appName}-bake`,
    metrics: [
      ...bake.paths.map((p, i) => probe(config, "probe", i, p, rounds, bake.intervalSeconds)),
      ...(bake.analysis?.metrics ?? []).flatMap((m) =>
        prometheusMetrics(m, bake.analysis!, rounds, bake.intervalSeconds),
      ),
    ],
  };
  const templates = [smokeTest, ...(bakeTemplate ? [bakeTemplate] : [])];
  const analysisSeconds = (requests - 1) * smokeIntervalSeconds + (bake ? (rounds - 1) * bake.intervalSeconds : 0);
  // The canary serves at most canaryLifetimeMinutes from its analysis' start, as the pipeline engine's expiry.
  const approvalPauseSeconds = Math.max(60, config.canaryLifetimeMinutes * 60 - analysisSeconds);
  const steps: RolloutStep[] = [
    { setWeight: config.canaryWeight },
    ...templates.map((template) => ({ analysis: { templates: [{ templateName: template.name }] } })),
    { pause: { duration: `${approvalPauseSeconds}s` } },
    { setWeight: 0 },
    { pause: {} },
  ];
  return {
    name: t.stableDeployment,
    canaryService: t.canaryService,
    stableService: `${config.appName}-stable`,
    steps,
    templates,
    approvalStep: templates.length + 1,
    approvalPauseSeconds,
    expiredStep: templates.length + 3,
    analysisSeconds,
  };
}
