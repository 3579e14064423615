// The rules of a service's settings that need its plan, and so cannot live in config/ (which
// imports no component): checked by CanaryPipeline before anything registers, each problem
// naming its setting as the reader wrote it (the SettingNames the component is given).
import { settingsError, type SettingNames, type SettingPath } from "../config/errors";
import type { StackConfig } from "../config/schema";
import { deployPlan, type DeployPlan } from "./repository/workflows/deploy";

/**
 * canaryLifetimeMinutes must hold the canary job's timeout-minutes, which the deploy workflow
 * derives from the rollout, smoke test and bake: the reaper must never scale down a canary its own
 * job is still testing; under Argo Rollouts the approval pause is the lifetime less the analyses,
 * at least a minute, so a shorter lifetime would not bound the canary.
 */
function lifetimeProblem(config: StackConfig, plan: DeployPlan): string | undefined {
  const jobMinutes = plan.minutes.canary;
  if (config.canaryLifetimeMinutes >= jobMinutes) return undefined;
  const expiry = plan.argo
    ? "the controller's approval pause would be cut to its floor and the canary could outlive it"
    : "the reaper would scale the canary to 0 while its job still tests it";
  return (
    `${config.canaryLifetimeMinutes} is shorter than the canary job's ${jobMinutes} minutes: ` +
    `${expiry}; set it to ${jobMinutes} or more`
  );
}

/**
 * iamMaxSessionDuration, when set, must let each role's session outlive the longest deploy job
 * that uses it: a session that ends first fails the job's kubectl calls mid-rollout (EKS tokens are
 * minted from it), clean-up included.
 */
function sessionProblem(config: StackConfig, { minutes, sessionSeconds }: DeployPlan): string | undefined {
  if (config.iamMaxSessionDuration === undefined || config.clusterAuth !== "eks") return undefined;
  if (config.iamMaxSessionDuration >= sessionSeconds.roles) return undefined;
  const longest = Math.max(minutes.canary, minutes.promote, minutes.rollback);
  return (
    `${config.iamMaxSessionDuration} s is shorter than the longest deploy job, which may run ${longest} minutes ` +
    `with the role's session: set it to ${sessionSeconds.roles} or more, or leave it unset (the jobs' longest)`
  );
}

/**
 * GitHub ends a job on its hosted runners after 6 hours (docs.github.com, "Usage limits"): the
 * approval deadline of a gated environment watches the promotion's wait until the canary expires,
 * so the lifetime must end within that, or an approval could hold the deploy lock unwatched.
 */
export const githubJobLimitMinutes = 360;
function approvalDeadlineProblem(config: StackConfig, { gated, minutes }: DeployPlan): string | undefined {
  if (!gated || minutes.approvalDeadline <= githubJobLimitMinutes) return undefined;
  const longest = githubJobLimitMinutes - (minutes.approvalDeadline - config.canaryLifetimeMinutes);
  return (
    `${config.canaryLifetimeMinutes} is longer than a gated environment's approval deadline can watch: its job ` +
    `would run ${minutes.approvalDeadline} minutes, past GitHub's ${githubJobLimitMinutes}-minute limit on a hosted job; ` +
    `set it to ${longest} or less (an approval later than that is refused anyway)`
  );
}

/** Throws one ConfigError naming every problem of the settings that their plan shows. */
export function checkServiceSettings(config: StackConfig, names: SettingNames): void {
  const plan = deployPlan(config);
  const problems: { path: SettingPath; reason: string }[] = [];
  const lifetime = lifetimeProblem(config, plan);
  if (lifetime !== undefined) problems.push({ path: ["canaryLifetimeMinutes"], reason: lifetime });
  const deadline = approvalDeadlineProblem(config, plan);
  if (deadline !== undefined) problems.push({ path: ["canaryLifetimeMinutes"], reason: deadline });
  const session = sessionProblem(config, plan);
  if (session !== undefined) problems.push({ path: ["iamMaxSessionDuration"], reason: session });
  const error = settingsError(names, problems);
  if (error !== undefined) throw error;
}
