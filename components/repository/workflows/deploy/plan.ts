// The deploy plan: everything an environment's deploy workflow does, computed once from the
// stack's settings and read by every job (one file per job beside this one). The cluster
// operations here are the ones the jobs run, each bound to the job-environment variables the jobs
// share, and the deployer's and the rollback identity's RBAC rules are derived from them.
import type { StackConfig } from "../../../../config/schema";
import { rolloutPlan, type RolloutPlan } from "../../../shared/argo-rollout";
import {
  bakeOperations,
  bakeRounds,
  bakeSpec,
  bakeStepTimeoutMinutes,
  type BakeSpec,
} from "../../../shared/canary-bake";
import { canarySplit, type CanarySplit } from "../../../shared/canary-split";
import {
  clusterOperations,
  clusterTargets,
  operationList,
  rolloutOperations,
  type ClusterOperation,
} from "../../../shared/cluster-operations";
import { rolloutTimeoutSeconds } from "../../../shared/rollout-timing";
import { smokeTestDeadlineSeconds, smokeTestOperations, type SmokeTestSpec } from "../../../shared/smoke-test";
import { EnvVariable, JobId } from "../links";

/** The settings the deploy workflow reads. */
export type DeployConfig = Pick<
  StackConfig,
  | "githubOwner"
  | "githubRepository"
  | "deployBranch"
  | "environment"
  | "promoteFrom"
  | "clusterAuth"
  | "namespace"
  | "appName"
  | "replicas"
  | "canaryWeight"
  | "nodeVersions"
  | "testRuntime"
  | "testSetup"
  | "testCommand"
  | "testMatrix"
  | "smokePaths"
  | "smokeRequests"
  | "smokeMaxLatencySeconds"
  | "scanSeverity"
  | "signImages"
  | "secrets"
  | "startupSeconds"
  | "minReadySeconds"
  | "canaryLifetimeMinutes"
  | "canaryBakeSeconds"
  | "canaryAnalysis"
  | "canaryEngine"
  | "requiredReviewers"
>;

/** The jobs of a deploy workflow; the first environment's has all six, a later one's the last three. */
export const deployJobs = {
  test: new JobId("test"),
  build: new JobId("build"),
  scan: new JobId("scan"),
  canary: new JobId("canary"),
  promote: new JobId("promote"),
  rollback: new JobId("rollback"),
  /** A gated environment's: cancels the run when the canary expires before its promotion is approved. */
  approvalDeadline: new JobId("approval-deadline"),
} as const;

/** The variables the deploy jobs' steps share: the workflow's IMAGE, and what the steps write. */
export const deployEnv = {
  /** The GHCR image, without tag or digest (the workflow's env). */
  image: new EnvVariable("IMAGE"),
  /** The digest this run releases (checked before any step uses it). */
  digest: new EnvVariable("DIGEST"),
  /** The release number. */
  release: new EnvVariable("RELEASE"),
  /** `true` when the run is an explicit rollback to an older release. */
  rollback: new EnvVariable("ROLLBACK"),
  /** The image stable ran before the promotion, to put it back if the promotion fails. */
  previousImage: new EnvVariable("PREVIOUS_IMAGE"),
  /** canaryEngine argo-rollouts: when the release was set on the Rollout (Unix seconds, taken just before). */
  releasedAt: new EnvVariable("RELEASED_AT"),
  /** The kubeconfig file kubectl reads. */
  kubeconfig: new EnvVariable("KUBECONFIG"),
} as const;

/** The image reference the deploy steps use, as the shell sees it (both validated first). */
export const imageRef = `"${deployEnv.image.braced}@${deployEnv.digest.braced}"`;

/** Minutes a job may run: its steps' own bounds plus five for setup (checkout of actions, credentials). */
const jobMinutes = (seconds: number) => Math.ceil(seconds / 60) + 5;

/**
 * What may run after a cancellation, in minutes. GitHub force-cancels what still runs 5 minutes
 * after a run is cancelled (docs.github.com/en/actions/reference/workflow-cancellation-reference);
 * each clean-up step and the rollback job carry these as their `timeout-minutes`, so the longest
 * path (the promote job's put-back, then the rollback job) ends within 4, leaving one for a runner
 * to take the rollback job.
 */
export const cleanupMinutes = {
  /** The canary or rollback job scaling this run's canary to 0 (canary-retire.sh: a few requests). */
  retireCanary: 1,
  /** The promote job moving stable back: the image, then a wait for the rollout, cut short (stableBackWaitSeconds). */
  stableBack: 2,
  /** The rollback job, set-up (kubectl, credentials) included. */
  rollbackJob: 2,
  /** A Slack notice (one HTTPS request). */
  notice: 1,
} as const;
/** How long the put-back waits for stable's rollout: the controller goes on after the step, which reports where it stands. */
export const stableBackWaitSeconds = 90;

/** The smoke test's settings, from the stack's. */
export function smokeTestSpec(config: DeployConfig): SmokeTestSpec {
  const targets = clusterTargets(config);
  return {
    targets,
    podName: targets.smokeTestPod,
    appName: config.appName,
    paths: config.smokePaths,
    maxLatencySeconds: config.smokeMaxLatencySeconds,
    requestsPerPath: config.smokeRequests,
  };
}

/** How long each rollout may take (rollout-timing.ts): the canary's pods start together, stable's one surge pod at a time. */
export function rolloutTimeouts(config: DeployConfig): { canary: number; stable: number } {
  return { canary: rolloutTimeoutSeconds(config, 1), stable: rolloutTimeoutSeconds(config, config.replicas) };
}

/** The cluster operations of the deploy jobs, by what they do. */
function operationsOf(config: DeployConfig, smokeTest: SmokeTestSpec, bake: BakeSpec | undefined, split: CanarySplit) {
  const t = clusterTargets(config);
  const timeouts = rolloutTimeouts(config);
  return {
    stableRelease: clusterOperations.readRelease(t),
    claimCanary: clusterOperations.claimCanary(t, '"$expires"', '"$GITHUB_RUN_ID"'),
    canaryImage: clusterOperations.setImage(t, t.canaryDeployment, imageRef),
    canaryUp: clusterOperations.scale(t, t.canaryDeployment, split.canaryReplicas),
    canaryRollout: clusterOperations.rolloutStatus(t, t.canaryDeployment, `${timeouts.canary}s`),
    canaryStates: clusterOperations.podStates(t, t.canarySelector),
    canaryPods: clusterOperations.canaryPodImages(t),
    smokeTest: smokeTestOperations(smokeTest),
    bake: bake ? bakeOperations(bake) : undefined,
    /** Scales this run's canary to 0, leaving another run's alone (canary-retire.sh). */
    retireCanary: {
      readCanaryState: clusterOperations.readCanaryState(t),
      scaleCanaryDownIfUnchanged: clusterOperations.scaleCanaryDownIfUnchanged(t),
    },
    /** What the promotion checks at the moment it acts (promote-check.sh). */
    promoteCheck: {
      readCanaryState: clusterOperations.readCanaryState(t),
      canaryPodStates: clusterOperations.podStates(t, t.canarySelector),
      stableRelease: clusterOperations.readRelease(t),
    },
    canaryDown: clusterOperations.scale(t, t.canaryDeployment, 0),
    stableImageNow: clusterOperations.readImage(t, t.stableDeployment),
    stableImage: clusterOperations.setImage(t, t.stableDeployment, imageRef),
    stableRollout: clusterOperations.rolloutStatus(t, t.stableDeployment, `${timeouts.stable}s`),
    stableStates: clusterOperations.podStates(t, t.stableSelector),
    recordRelease: clusterOperations.setRelease(t, `"${deployEnv.release.ref}"`),
    stableBack: clusterOperations.setImage(t, t.stableDeployment, `"${deployEnv.previousImage.ref}"`),
    stableBackRollout: clusterOperations.rolloutStatus(t, t.stableDeployment, `${stableBackWaitSeconds}s`),
  };
}

export type DeployOperations = ReturnType<typeof operationsOf>;

/** The image reference as one part of a longer double-quoted shell word (the JSON patch of the Rollout). */
const imageInQuotes = `${deployEnv.image.braced}@${deployEnv.digest.braced}`;

/** The cluster operations of the Argo Rollouts engine's jobs, by what they do. */
function rolloutOperationsOf(config: DeployConfig) {
  const t = clusterTargets(config);
  const readState = rolloutOperations.readState(t);
  return {
    stableRelease: rolloutOperations.readRelease(t),
    claim: rolloutOperations.claim(t, '"$GITHUB_RUN_ID"'),
    setImage: rolloutOperations.setImage(t, imageInQuotes),
    /** The canary job's wait for the controller's verdict (rollout-verdict.sh). */
    verdict: { readState },
    /** The promotion (rollout-promote.sh), which records the release once stable runs it. */
    promote: {
      readState,
      promoteIfUnchanged: rolloutOperations.promoteIfUnchanged(t),
      stableRelease: rolloutOperations.readRelease(t),
      recordRelease: rolloutOperations.setRelease(t, `"${deployEnv.release.ref}"`),
    },
    /** Aborts this run's canary, leaving another run's alone (rollout-abort.sh). */
    abort: { readState, abortIfUnchanged: rolloutOperations.abortIfUnchanged(t) },
  };
}

export type RolloutDeployOperations = ReturnType<typeof rolloutOperationsOf>;

/** canaryEngine argo-rollouts: the Rollout's plan, the operations the jobs run on it, and their bounds. */
export interface RolloutEnginePlan {
  readonly rollout: RolloutPlan;
  readonly operations: RolloutDeployOperations;
  /** The canary job's wait for the verdict: the canary's pods, every analysis at its slowest, a minute more. */
  readonly verdictSeconds: number;
  /** The promote job's wait for Healthy: stable's rollout, one surge pod at a time. */
  readonly healthySeconds: number;
  /** Seconds between two looks at the Rollout. */
  readonly checkSeconds: number;
}

function rolloutEngine(config: DeployConfig): RolloutEnginePlan {
  const rollout = rolloutPlan(config);
  const timeouts = rolloutTimeouts(config);
  const bake = bakeSpec(config);
  // Each measurement may take its whole timeout: the smoke requests one after another, then the bake's rounds.
  const slowest =
    Math.ceil(config.smokeMaxLatencySeconds) *
    (config.smokeRequests + (bake ? bakeRounds(bake.bakeSeconds, bake.intervalSeconds) : 0));
  return {
    rollout,
    operations: rolloutOperationsOf(config),
    verdictSeconds: timeouts.canary + rollout.analysisSeconds + slowest + 60,
    healthySeconds: timeouts.stable,
    checkSeconds: 5,
  };
}

export interface DeployPlan {
  readonly config: DeployConfig;
  /** Whether this environment builds (the first) or promotes what `config.promoteFrom` released. */
  readonly first: boolean;
  readonly targets: ReturnType<typeof clusterTargets>;
  readonly split: CanarySplit;
  readonly smokeTest: SmokeTestSpec;
  /** The bake window; undefined when canaryBakeSeconds is 0 (no bake step). */
  readonly bake: BakeSpec | undefined;
  /** The pipeline engine's operations (canaryEngine pipeline: the jobs run these). */
  readonly operations: DeployOperations;
  /** canaryEngine argo-rollouts: the Rollout's plan and what the jobs do with it; undefined with the pipeline engine. */
  readonly argo?: RolloutEnginePlan;
  /** Whether the environment has reviewers: its promotion waits for an approval, which approvalDeadline bounds. */
  readonly gated: boolean;
  /** The jobs' time limits (timeout-minutes). */
  readonly minutes: {
    readonly canary: number;
    readonly promote: number;
    readonly rollback: number;
    readonly approvalDeadline: number;
  };
  /**
   * The AWS session each identity's jobs ask for (configure-aws-credentials role-duration-seconds),
   * as long as its longest job may run, and the roles' maxSessionDuration: at least that.
   */
  readonly sessionSeconds: { readonly deployer: number; readonly rollback: number; readonly roles: number };
  /** Exactly the cluster operations the workflow's canary and promote jobs run, each once: the deployer's. */
  readonly deployerOperations: readonly ClusterOperation[];
  /** What the rollback job runs: only this, so its identity may do nothing else. */
  readonly rollbackOperations: readonly ClusterOperation[];
}

/** The deploy plan of an environment. */
export function deployPlan(config: DeployConfig): DeployPlan {
  const split = canarySplit(config.replicas, config.canaryWeight);
  const smokeTest = smokeTestSpec(config);
  const bake = bakeSpec(config);
  const operations = operationsOf(config, smokeTest, bake, split);
  const argo = config.canaryEngine === "argo-rollouts" ? rolloutEngine(config) : undefined;
  const minutes = argo ? rolloutJobLimits(config, argo) : jobLimits(config, smokeTest, bake);
  return {
    config,
    first: config.promoteFrom === undefined,
    targets: clusterTargets(config),
    split,
    smokeTest,
    bake,
    operations,
    ...(argo ? { argo } : {}),
    deployerOperations: argo ? rolloutInOrderOfUse(argo.operations) : inOrderOfUse(operations),
    rollbackOperations: operationList(argo ? argo.operations.abort : operations.retireCanary),
    gated: config.requiredReviewers.length > 0,
    minutes,
    sessionSeconds: {
      deployer: Math.max(minutes.canary, minutes.promote) * 60,
      rollback: minutes.rollback * 60,
      // IAM's floor for a role's maxSessionDuration is an hour.
      roles: Math.max(3600, Math.max(minutes.canary, minutes.promote, minutes.rollback) * 60),
    },
  };
}

/** The jobs' time limits, from their steps' bounds. */
function jobLimits(config: DeployConfig, smokeTest: SmokeTestSpec, bake: BakeSpec | undefined) {
  const timeouts = rolloutTimeouts(config);
  const smokeTestSeconds = smokeTestDeadlineSeconds(smokeTest) + 60;
  return {
    // Its rollout, the pod check, the smoke test, the bake window.
    canary: jobMinutes(timeouts.canary + 60 + smokeTestSeconds) + (bake ? bakeStepTimeoutMinutes(bake) : 0),
    // The canary's check and smoke test again, stable's rollout and, when it fails, the put-back.
    promote: jobMinutes(60 + smokeTestSeconds + timeouts.stable) + cleanupMinutes.stableBack,
    rollback: cleanupMinutes.rollbackJob,
    // The canary's lifetime, then the cancellation.
    approvalDeadline: config.canaryLifetimeMinutes + 5,
  };
}

/** The Argo Rollouts engine's job limits: its waits' bounds, set-up, and the clean-up. */
function rolloutJobLimits(config: DeployConfig, argo: RolloutEnginePlan) {
  return {
    canary: jobMinutes(argo.verdictSeconds) + cleanupMinutes.retireCanary,
    promote: jobMinutes(60 + argo.healthySeconds) + cleanupMinutes.retireCanary,
    rollback: cleanupMinutes.rollbackJob,
    approvalDeadline: config.canaryLifetimeMinutes + 5,
  };
}

/** The Argo Rollouts engine's operations (each once), in order of first use. */
function rolloutInOrderOfUse(o: RolloutDeployOperations): ClusterOperation[] {
  const all = [
    o.stableRelease,
    o.claim,
    o.setImage,
    ...operationList(o.verdict),
    ...operationList(o.promote),
    ...operationList(o.abort),
  ];
  return all.filter((op, i) => all.findIndex((other) => other.command === op.command) === i);
}

/** The operations (each once), in order of first use. */
function inOrderOfUse(o: DeployOperations): ClusterOperation[] {
  const all = [
    o.stableRelease,
    o.claimCanary,
    o.canaryImage,
    o.canaryUp,
    o.canaryRollout,
    o.canaryStates,
    o.canaryPods,
    ...operationList(o.smokeTest),
    ...(o.bake ? operationList(o.bake) : []),
    ...operationList(o.retireCanary),
    ...operationList(o.promoteCheck),
    o.canaryDown,
    o.stableImageNow,
    o.stableImage,
    o.stableRollout,
    o.stableStates,
    o.recordRelease,
    o.stableBack,
    o.stableBackRollout,
  ];
  // One `kubectl create` creates the smoke-test and the bake pods: both are kept, for the pods they create.
  const same = (a: ClusterOperation, b: ClusterOperation) =>
    a.command === b.command && a.createsPod?.name === b.createsPod?.name;
  return all.filter((op, i) => all.findIndex((other) => same(other, op)) === i);
}

/** Exactly the cluster operations the generated workflows run (each once), in order of first use. */
export const deployOperations = (config: DeployConfig): ClusterOperation[] => [
  ...deployPlan(config).deployerOperations,
];
/** What the rollback job does: only this, so its identity may do nothing else. */
export const rollbackOperations = (config: DeployConfig): ClusterOperation[] => [
  ...deployPlan(config).rollbackOperations,
];
