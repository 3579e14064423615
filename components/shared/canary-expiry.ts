// The canary's deadline and the reaper that enforces it without the run that deployed it. The
// canary job records `deploy time + canaryLifetimeMinutes` on the canary Deployment
// (canaryExpiryAnnotation) before scaling it up; an in-cluster CronJob (components/cluster/
// canary-reaper.ts) scales an expired canary to 0 every minute, so a canary stops serving even when
// its runner is lost, its run is cancelled or its approval never comes (docs/pipeline.md,
// "Expired canaries"). The reaper's script is a file, components/scripts/canary-reaper.sh.
import { canaryLifetime } from "../../config/constants";
import {
  apiRequestSeconds,
  canaryExpiryAnnotation,
  clusterOperations,
  type ClusterOperation,
  type ClusterTargets,
} from "./cluster-operations";
import { composeScript, operationPreamble, scriptText, shellParameters } from "./script-files";

/** canaryLifetimeMinutes: its range and default (in config/constants.ts: config/schema.ts declares the setting with these). */
export { canaryLifetime };

/** The settings the expiry depends on. */
export interface LifetimeSettings {
  /** The longest a canary may serve from its deploy, in minutes. */
  readonly canaryLifetimeMinutes: number;
}

/** The shell expression of the canary's expiry (Unix seconds), evaluated when the canary job sets it. */
export const canaryExpiryExpression = (config: LifetimeSettings) =>
  `$(( $(date +%s) + ${config.canaryLifetimeMinutes * 60} ))`;

/** The reaper's CronJob timing. */
export const reaperTiming = {
  /** Every minute (the CronJob's smallest period). */
  schedule: "* * * * *",
  periodSeconds: 60,
  /**
   * How late a run may start; a missed start is skipped, the next minute's runs. At least 10 s:
   * the controller checks schedules about that often (Kubernetes docs, "CronJob", job creation).
   */
  startingDeadlineSeconds: 30,
  /** How long a run may take (Job activeDeadlineSeconds): a read and a scale-down, and start-up; a run cut off is repeated the next minute. */
  activeDeadlineSeconds: 30,
  /** Each request's own limit (curl --max-time). */
  requestSeconds: apiRequestSeconds,
} as const;

/**
 * The longest a canary can serve after its run is gone, in seconds: its lifetime (the run is lost
 * right after the deploy), then a reaper run that read it just before it expired, the next
 * scheduled run one period later, started at most startingDeadlineSeconds late and finished within
 * activeDeadlineSeconds. Late start plus run time fit in one period, so with concurrencyPolicy Forbid
 * no run ever waits for the one before. Assumes the cluster's control plane is up.
 */
export function longestUnattendedServingSeconds(config: LifetimeSettings): number {
  return (
    config.canaryLifetimeMinutes * 60 +
    reaperTiming.periodSeconds +
    reaperTiming.startingDeadlineSeconds +
    reaperTiming.activeDeadlineSeconds
  );
}

/** Where the reaper finds the API server, its token and CA; each overridable by the variable of the same name. */
export const reaperEnvironment = {
  API_SERVER: "https://kubernetes.default.svc",
  TOKEN_FILE: "/var/run/secrets/kubernetes.io/serviceaccount/token",
  CA_FILE: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
} as const;

/** The API requests of the reaper's script, by the name it calls each by. */
export type ReaperOperations = {
  /** Reads the canary Deployment. */
  readonly readCanary: ClusterOperation;
  /** Scales it to 0 unless it changed since the read; its argument: the resourceVersion read. */
  readonly reapCanary: ClusterOperation;
};

/** The operations the reaper's script performs: read the canary, then scale it to 0 unless it changed since (operationList: the Role's). */
export const reaperOperations = (t: ClusterTargets): ReaperOperations => ({
  readCanary: clusterOperations.readCanary(t),
  reapCanary: clusterOperations.reapCanary(t),
});

/** What the script exits with when a request fails or an answer is unreadable; every outcome it reports is 0. */
export const reaperErrorExit = 1;

/** How many times a run reads and judges the canary when its scale-down meets a conflict. */
export const reaperAttempts = 3;

/**
 * The reaper's script (POSIX sh; busybox in the curl image, no jq): its requests' functions, its
 * parameters, then components/scripts/canary-reaper.sh. It reads the canary Deployment and its last
 * line says what it did: `reaped`, `not expired`, `at rest`, `no expiry` or `conflict`. Those exit
 * 0; a failed request or an unreadable answer exits 1. An expiry that is not a number counts as
 * expired: a canary whose deadline cannot be read must not serve.
 * The scale-down carries the resourceVersion it read, so the API server refuses it (409 Conflict)
 * when the Deployment changed since (optimistic concurrency, Kubernetes API concepts): a new
 * release that re-armed the canary in between is never reaped. On a conflict the script reads and
 * judges again, up to reaperAttempts times (the Deployment's status updates change its
 * resourceVersion as well); then it leaves the canary to the next run.
 */
export function reaperScript(t: ClusterTargets): string {
  return composeScript(
    operationPreamble(reaperOperations(t)),
    shellParameters({
      ...Object.fromEntries(Object.entries(reaperEnvironment).map(([name, value]) => [name, { default: value }])),
      REAPER_CANARY: t.canaryDeployment,
      REAPER_EXPIRY_ANNOTATION: canaryExpiryAnnotation,
      REAPER_ATTEMPTS: reaperAttempts,
      REAPER_ERROR_EXIT: reaperErrorExit,
    }),
    scriptText("canary-reaper.sh"),
  );
}
