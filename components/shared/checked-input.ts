// Settings a program may pass as Inputs (the outputs of a cluster or an OIDC provider it creates)
// are held to the same rules as the stack's settings, as soon as their values are known.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../config/errors";
import { configSchema } from "../../config/schema";

/** Where a checked Input is written, and its rule. */
export interface InputCheck {
  /** The component whose Args hold the value: `CanaryPipeline orders`. */
  readonly holder: string;
  /** The value's property path in those Args: `eksClusterName`. */
  readonly propertyPath: string;
  /** Why a value is refused, or undefined. */
  readonly problem: (value: string) => string | undefined;
  /** Keep the value out of the message. */
  readonly secret?: boolean;
  /**
   * The component, once constructed (undefined before): an Output that resolves to a bad value
   * fails as a ResourceError on it.
   */
  readonly component: () => pulumi.Resource | undefined;
}

/**
 * `value`, checked once it is known. A plain value at once, before anything registers: it throws
 * ConfigError naming `holder` and `propertyPath`. An Output when it resolves (a value a preview
 * cannot know stays unchecked): the check runs once, in one apply, and a bad value fails with one
 * ConfigError, a ResourceError on the component. Every resource that reads the value then fails
 * with that same error object, which the Pulumi CLI reports once (its handler dedupes errors by
 * identity), and whose message stays its own one line (ConfigError).
 */
export function checkedInput(value: pulumi.Input<string>, check: InputCheck): pulumi.Input<string> {
  const refusal = (v: string): ConfigError | undefined => {
    const why = check.problem(v);
    if (why === undefined) return undefined;
    const resource = check.component();
    return new ConfigError(
      [{ propertyPath: check.propertyPath, reason: `${check.secret ? "" : `${JSON.stringify(v)} `}${why}` }],
      {
        holder: check.holder,
        ...(resource !== undefined ? { resource } : {}),
      },
    );
  };
  if (typeof value === "string") {
    const error = refusal(value);
    if (error !== undefined) throw error;
    return value;
  }
  let failure: ConfigError | undefined;
  return pulumi.output(value).apply((v) => {
    failure ??= refusal(v);
    if (failure !== undefined) throw failure;
    return v;
  });
}

/** The rule of setting `key` (config/schema.ts), as a problem function for checkedInput. */
export const settingRule =
  (key: keyof typeof configSchema.shape) =>
  (value: string): string | undefined => {
    const result = configSchema.shape[key].safeParse(value);
    return result.success ? undefined : result.error.issues[0]?.message;
  };
