// The rules of a service's settings that need its plan, and so cannot live in config/ (which
// imports no component): checked by CanaryPipeline before anything registers, each problem
// naming its setting as the reader wrote it (the SettingNames the component is given).
import { settingsError, type SettingNames, type SettingPath } from "../config/errors";
import type { StackConfig } from "../config/schema";
import { canaryJobMinutes } from "./repository/workflows/deploy";

/**
 * canaryLifetimeMinutes must hold the canary job's timeout-minutes, which the deploy workflow
 * derives from the rollout, smoke test and bake: the reaper must never scale down a canary its own
 * job is still testing.
 */
function lifetimeProblem(config: StackConfig): string | undefined {
  const jobMinutes = canaryJobMinutes(config);
  if (config.canaryLifetimeMinutes >= jobMinutes) return undefined;
  return (
    `${config.canaryLifetimeMinutes} is shorter than the canary job's ${jobMinutes} minutes: ` +
    `the reaper would scale the canary to 0 while its job still tests it; set it to ${jobMinutes} or more`
  );
}

/** Throws one ConfigError naming every problem of the settings that their plan shows. */
export function checkServiceSettings(config: StackConfig, names: SettingNames): void {
  const problems: { path: SettingPath; reason: string }[] = [];
  const lifetime = lifetimeProblem(config);
  if (lifetime !== undefined) problems.push({ path: ["canaryLifetimeMinutes"], reason: lifetime });
  const error = settingsError(names, problems);
  if (error !== undefined) throw error;
}
