// One kind of error for bad input, modelled on pulumi-eks's InputPropertyError({ propertyPath,
// reason }): each problem names the setting the way its reader wrote it and says the fix. A stack's
// user reads the stack key (`canary-pipeline:replicas`, `aws:region`); a program that passes
// settings or Args to a component reads the property path of those Args (`settings.awsRegion`,
// `kubeconfig`), after the component's type and name. Validation collects every problem before it
// throws, so one run names them all. No component is imported here.
//
// Who names what: the code that checks a value knows where its reader wrote it. The stack's
// loader (config/load.ts) validates the stack's settings by stack key; a component validates its
// own Args by property path, and its `settings` or `config` with the SettingNames it is given
// (CanaryPipeline: `settings.<key>`, or stackSettingNames when index.ts passes the stack's config).
import * as pulumi from "@pulumi/pulumi";
import { foreignKeys, projectName } from "./constants";

/** A path into a settings object: `["canaryAnalysis", "metrics", 1, "query"]`. */
export type SettingPath = readonly (string | number)[];

/** One bad input: where its reader wrote it, and what is wrong with it and the fix. */
export interface InputProblem {
  /** `canary-pipeline:replicas` or `aws:region` (a stack key); `settings.awsRegion` or `kubeconfig` (a property of a component's Args). */
  readonly propertyPath: string;
  /** What is wrong and the fix: `0 must be a whole number from 1 to 100`. */
  readonly reason: string;
}

export interface ConfigErrorOptions {
  /** The component whose Args hold the properties, `CanaryPipeline orders`; absent for a stack's settings. */
  readonly holder?: string;
  /** The component a value given as an Output failed on, once known (the error is then a ResourceError on it). */
  readonly resource?: pulumi.Resource;
}

/**
 * Bad input: each problem names its setting or Args property and says the fix. A ResourceError
 * with its stack hidden, so the Pulumi CLI prints the message alone (on the component when it is
 * known); the project's CLIs print it without a trace too.
 */
export class ConfigError extends pulumi.ResourceError {
  /** Each problem, as pulumi-eks's InputPropertyError carries it. */
  readonly errors: InputProblem[];
  /** Each problem as one line: `[<holder>: ]<propertyPath>: <reason>`. */
  readonly problems: string[];
  /** The component whose Args hold the properties; absent for a stack's settings. */
  readonly holder?: string;

  constructor(errors: readonly InputProblem[], options: ConfigErrorOptions = {}) {
    const problems = errors.map(
      (e) => `${options.holder !== undefined ? `${options.holder}: ` : ""}${e.propertyPath}: ${e.reason}`,
    );
    const message = `Invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`;
    super(message, options.resource, true);
    this.name = "ConfigError";
    this.errors = [...errors];
    this.problems = problems;
    if (options.holder !== undefined) this.holder = options.holder;
    // An Output that fails rejects every resource that reads it with this same error, and the SDK
    // prefixes its message each time with the property it was serialising ("error serializing
    // property …": pulumi/pulumi sdk/nodejs/runtime/rpc.ts). The problems name their setting
    // themselves: the message keeps its own text.
    Object.defineProperty(this, "message", {
      get: () => message,
      set: () => undefined,
      enumerable: false,
      configurable: true,
    });
  }
}

/** Where a stack key is set: `canary-pipeline:replicas`, or a provider's key such as `aws:region`. */
export function qualifiedKey(key: string): string {
  return (foreignKeys as Record<string, string>)[key] ?? `${projectName}:${key}`;
}

/** The rest of a path, as `pulumi config set --path` and TypeScript both write it: `.metrics[1].query`. */
const pathTail = (path: SettingPath) =>
  path.map((p) => (typeof p === "number" || /^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join("");

/** How the reader of an error wrote a set of settings, and how they set one. */
export interface SettingNames {
  /** The component whose Args hold the settings (`CanaryPipeline orders`); absent for the stack's own. */
  readonly holder?: string;
  /** The setting at `path`, as its reader wrote it. */
  readonly path: (path: SettingPath) => string;
  /** Another setting, named inside a reason: `aws:region` to a stack's user, `awsRegion` to a program's author. */
  readonly key: (key: string) => string;
  /** The fix for a required setting that is missing. */
  readonly howToSet: (path: SettingPath) => string;
  /** Why a key that is no setting is refused, and where the valid keys are listed. */
  readonly unknownKey: string;
}

/** A stack's settings, named as its stack file and `pulumi config set` name them. */
export const stackSettingNames: SettingNames = {
  path: ([key, ...rest]) => qualifiedKey(String(key)) + pathTail(rest),
  key: (key) => (foreignKeys as Record<string, string>)[key] ?? key,
  howToSet: (path) =>
    `set it with \`pulumi config set ${path.length > 1 ? "--path " : ""}${stackSettingNames.path(path)} <value>\``,
  unknownKey: "is not a setting of this project: see Pulumi.yaml for the valid keys",
};

/**
 * The settings a program gives a component in its Args, under `at` (`settings`, `config`):
 * property paths (`settings.canaryAnalysis.metrics[1].query`) after the component (`holder`).
 */
export function argsSettingNames(holder: string, at: string): SettingNames {
  const path = (p: SettingPath) => `${at}${pathTail(p)}`;
  return {
    holder,
    path,
    key: (key) => key,
    howToSet: (p) => `add ${String(p[p.length - 1])} to ${path(p.slice(0, -1))}`,
    unknownKey: "is not a setting: ServiceSettings lists the valid keys",
  };
}

/** The problems of settings named by `names`, as one ConfigError (undefined when there are none). */
export function settingsError(
  names: SettingNames,
  problems: readonly { path: SettingPath; reason: string }[],
  resource?: pulumi.Resource,
): ConfigError | undefined {
  if (problems.length === 0) return undefined;
  return new ConfigError(
    problems.map((p) => ({ propertyPath: names.path(p.path), reason: p.reason })),
    {
      ...(names.holder !== undefined ? { holder: names.holder } : {}),
      ...(resource !== undefined ? { resource } : {}),
    },
  );
}

/** Throws the problems of a component's Args (`holder`, `PipelineRoles orders`) as one ConfigError, if there are any. */
export function refuseArgs(holder: string, problems: readonly InputProblem[]): void {
  if (problems.length > 0) throw new ConfigError(problems, { holder });
}
