// How long a rollout may take, computed from the pods' probes and the Deployments' strategy
// rather than a constant: one source for the probes the workload declares, the Deployments'
// progressDeadlineSeconds and the pipeline's rollout timeouts.

/** The probes' fixed timing; the startup allowance and minReadySeconds are settings. */
export const probeTiming = {
  startupPeriodSeconds: 5,
  readinessPeriodSeconds: 5,
  readinessTimeoutSeconds: 2,
  readinessFailureThreshold: 3,
  livenessPeriodSeconds: 10,
  livenessTimeoutSeconds: 5,
  livenessFailureThreshold: 6,
} as const;

/** Allowance for scheduling a pod, pulling its image and starting its container. */
export const scheduleAndPullSeconds = 60;

export interface PodTimingSettings {
  /** The longest the container may take to answer its health path after it starts (startupProbe). */
  readonly startupSeconds: number;
  /** Seconds a new pod must be ready before it counts as available. */
  readonly minReadySeconds: number;
}

/** The startupProbe's failureThreshold: the allowance in probe periods, rounded up. */
export const startupFailureThreshold = (s: PodTimingSettings) =>
  Math.ceil(s.startupSeconds / probeTiming.startupPeriodSeconds);

/**
 * The longest a healthy pod takes from creation to available: scheduled and pulled, started within
 * the startup allowance, ready at the next readiness probe, then ready for minReadySeconds.
 */
export function podAvailableSeconds(s: PodTimingSettings): number {
  return (
    scheduleAndPullSeconds +
    startupFailureThreshold(s) * probeTiming.startupPeriodSeconds +
    probeTiming.readinessPeriodSeconds +
    probeTiming.readinessTimeoutSeconds +
    s.minReadySeconds
  );
}

/**
 * The Deployments' progressDeadlineSeconds. The controller counts it from the last progress (a new
 * ReplicaSet, a pod becoming available: kubernetes pkg/controller/deployment/progress.go), and with
 * maxSurge 1 each step waits for one pod: a step that takes longer than one pod's bound is stuck.
 */
export const progressDeadlineSeconds = (s: PodTimingSettings) => podAvailableSeconds(s);

/**
 * A rollout's timeout: `steps` pods made available one after the other (the stable rollout: one
 * surge pod at a time, never below capacity), or 1 for pods created together (the canary's scale-up).
 */
export const rolloutTimeoutSeconds = (s: PodTimingSettings, steps: number) => steps * podAvailableSeconds(s) + 30;

/**
 * The bound docs/pipeline.md states: a canary whose pods will never become ready (a crash loop,
 * an image that cannot be pulled) is scaled back to 0 within this many seconds of its deploy.
 * test/cluster/fail-safe.test.ts holds the pipeline to it.
 */
export const neverReadyBoundSeconds = 90;
