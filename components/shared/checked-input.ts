// Settings a program may pass as Inputs (the outputs of a cluster or an OIDC provider it creates)
// are held to the same rules as the stack's settings, as soon as their values are known.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../config/load";
import { configSchema } from "../../config/schema";

/**
 * `value`, checked by `problem` once it is known: a plain value at once, before anything
 * registers; an Output when it resolves (a value a preview cannot know yet stays unchecked). The
 * ConfigError names `where`, and shows the value unless it is `secret`.
 */
export function checkedInput(
  value: pulumi.Input<string>, where: string, problem: (value: string) => string | undefined, secret = false,
): pulumi.Input<string> {
  const check = (v: string) => {
    const why = problem(v);
    if (why !== undefined) throw new ConfigError([`${where}: ${secret ? "" : `${JSON.stringify(v)} `}${why}`]);
    return v;
  };
  return typeof value === "string" ? check(value) : pulumi.output(value).apply(check);
}

/** The rule of setting `key` (config/schema.ts), as a problem function for checkedInput. */
export const settingRule = (key: keyof typeof configSchema.shape) => (value: string): string | undefined => {
  const result = configSchema.shape[key].safeParse(value);
  return result.success ? undefined : result.error.issues[0]?.message;
};
