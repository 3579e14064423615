// The values the settings (config/schema.ts) and the components both need, in a module that
// imports nothing: config/ depends on no component, and a component reads these here (or through
// the module that re-exports them) instead of the schema reading them from a component.

/** The Pulumi project name, and so the config namespace of every setting. */
export const projectName = "canary-pipeline";

/** Settings a stack reads from another namespace than the project's: a provider's own key. */
export const foreignKeys = { awsRegion: "aws:region" } as const;

/** canaryLifetimeMinutes: its range and default (components/shared/canary-expiry.ts enforces it). */
export const canaryLifetime = {
  defaultMinutes: 60,
  /**
   * The floor: a canary job rolls the canary out, smoke-tests and bakes it; shorter than this, a
   * healthy release would be reaped under its own job.
   */
  minMinutes: 10,
  /** A week: a prod approval may wait over a weekend, and not forever. */
  maxMinutes: 10080,
} as const;

/** Requests per smoke path and Service when the stack does not say (the smokeRequests setting's default). */
export const defaultSmokeRequests = 20;

/** The placeholder of a metric's query that the bake replaces by `canary` and by `stable` (the pods' `track` label). */
export const bakePlaceholder = "$track";

/** Seconds between two rounds of probes and measurements, unless canaryAnalysis says otherwise. */
export const defaultBakeIntervalSeconds = 30;

/** The test jobs' commands with testRuntime node, unless testSetup and testCommand say otherwise. */
export const nodeTestCommands = { setup: "npm ci", command: "npm test" } as const;
