// Reads the stack's configuration and validates all of it at once, synchronously, before any
// resource is registered: a mistake stops the program with one line per problem and no trace.
import * as pulumi from "@pulumi/pulumi";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import {
  configSchema, foreignKeys, projectName, resolveDefaults, secretSettings, stackConfigSchema,
  type ClusterLocationKey, type RawConfig, type SecretKey, type StackConfig,
} from "./schema";

/** The types Pulumi.yaml's `config:` block allows. */
export type PulumiConfigType = "string" | "integer" | "boolean" | "array";

/** One declared setting, as Pulumi.yaml's `config:` block states it. */
export interface ConfigDeclaration {
  readonly key: string;
  readonly type: PulumiConfigType;
  /** An array's element type. */
  readonly items?: { readonly type: PulumiConfigType };
  readonly description: string;
  readonly default?: unknown;
  readonly secret?: true;
  /** What the schema accepts, as docs/configuration.md states it: `string or number`. */
  readonly accepts: string;
}

/** The part of a JSON Schema a setting's type is read from. */
interface JsonSchemaType {
  type?: string | string[];
  anyOf?: JsonSchemaType[];
  items?: JsonSchemaType;
  pattern?: string;
  description?: string;
  default?: unknown;
}

const jsonTypes = (s: JsonSchemaType): string[] => (s.anyOf ? s.anyOf.flatMap(jsonTypes) : [s.type ?? []].flat());
const digitsOnly = (s: JsonSchemaType) => (s.anyOf ?? [s]).some((t) => t.type === "string" && t.pattern === "^\\d+$");

// Pulumi checks each stack value against its declared type before the program starts. A scalar
// reaches that check as the stack file's text, so a string declaration takes 1.5 as well as "1.5".
// Inside an array values keep their JSON type, and integer is the one declaration that takes both
// 22 and "22" (it accepts text that parses as a whole number), so an item that is digits-only text
// or a whole number is declared integer. Anything else has no declaration: the generator stops.
function pulumiType(key: string, s: JsonSchemaType, inArray = false): PulumiConfigType {
  const types = [...new Set(jsonTypes(s))];
  const [only] = types;
  if (types.length === 1 && (only === "string" || only === "integer" || only === "boolean" || only === "array")) return only;
  if (!inArray && types.every((t) => t === "string" || t === "integer" || t === "number")) return "string";
  if (inArray && types.length === 2 && types.includes("integer") && digitsOnly(s)) return "integer";
  throw new Error(`${key}: no Pulumi.yaml type takes ${types.join(" or ")}${inArray ? " in an array" : ""}`);
}

const accepts = (s: JsonSchemaType): string =>
  s.items ? `array of ${accepts(s.items)}` : [...new Set(jsonTypes(s))].join(" or ");

/** Every setting of the project namespace, derived from the schema (the one source of truth). */
export function configDeclarations(): ConfigDeclaration[] {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
  const properties = schema.properties as Record<string, JsonSchemaType & { description: string }>;
  const declared = Object.entries(properties)
    .filter(([key]) => !(key in foreignKeys))
    .map(([key, p]): ConfigDeclaration => ({
      key,
      type: pulumiType(key, p),
      ...(p.items ? { items: { type: pulumiType(key, p.items, true) } } : {}),
      description: p.description,
      ...(p.default !== undefined ? { default: p.default } : {}),
      accepts: accepts(p),
    }));
  const secrets = Object.entries(secretSettings).map(([key, description]): ConfigDeclaration => ({ key, type: "string", description, secret: true, accepts: "string (secret)" }));
  return [...declared, ...secrets];
}

/** A configuration mistake. RunError: the Pulumi CLI prints its message without a stack trace. */
export class ConfigError extends pulumi.RunError {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Where a key is set: `canary-pipeline:replicas`, or a provider's key such as `aws:region`. */
export function qualifiedKey(key: string): string {
  return foreignKeys[key as keyof RawConfig] ?? `${projectName}:${key}`;
}

// Config values reach the program as strings (arrays as JSON). Convert those that parse as the
// declared type; leave the rest as they are for the schema to reject with its own message.
function fromConfigString(value: string, type: ConfigDeclaration["type"]): unknown {
  if (type === "boolean" && (value === "true" || value === "false")) return value === "true";
  if (type === "integer" && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  if (type === "array" && value.trim().startsWith("[")) {
    try { return JSON.parse(value) as unknown; } catch { return value; }
  }
  return value;
}

const show = (value: unknown) => (typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? "undefined");

/** Formats the schema's problems, one line each: key, value, what would be valid. */
function describeProblems(error: z.ZodError, raw: Record<string, unknown>): string[] {
  return error.issues.map((issue) => {
    const [key, ...rest] = issue.path.map(String);
    const where = qualifiedKey(key ?? "") + rest.map((i) => `[${i}]`).join("");
    let value: unknown = raw[key ?? ""];
    for (const i of rest) value = (value as Record<string, unknown> | undefined)?.[i];
    if (value === undefined && issue.code === "invalid_type") return `${where}: is required: set it with \`pulumi config set ${where} <value>\``;
    return issue.message.startsWith("must") && value !== undefined ? `${where}: ${show(value)} ${issue.message}` : `${where}: ${issue.message}`;
  });
}

/**
 * Validates raw settings (already typed, as a test or a library caller gives them) and resolves
 * every default. `given`: location keys the caller supplies as Inputs instead (they count as set).
 * Throws ConfigError naming each problem.
 */
export function parseStackConfig(
  raw: Record<string, unknown>, stack: string, secrets: Record<SecretKey, boolean>, given: ReadonlySet<ClusterLocationKey> = new Set(),
): StackConfig {
  const known = Object.fromEntries(Object.entries(raw).filter(([k]) => k in configSchema.shape));
  const problems = Object.keys(raw).filter((k) => !(k in known))
    .map((k) => `${qualifiedKey(k)}: is not a setting of this project: see Pulumi.yaml for the valid keys`);
  const result = stackConfigSchema(given).safeParse(known);
  if (!result.success) problems.push(...describeProblems(result.error, known));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return resolveDefaults(result.data, stack, secrets);
}

/** Reads this stack's configuration from Pulumi and validates it (see parseStackConfig). */
export function loadStackConfig(): StackConfig {
  const config = new pulumi.Config(projectName);
  const declarations = configDeclarations();
  // A misspelt key would otherwise be silently ignored: hand it to the validator to refuse.
  const raw: Record<string, unknown> = {};
  for (const qualified of Object.keys(pulumi.runtime.allConfig())) {
    const key = qualified.slice(projectName.length + 1);
    if (qualified.startsWith(`${projectName}:`) && !declarations.some((d) => d.key === key)) raw[key] = config.get(key);
  }
  for (const d of declarations) {
    if (d.secret) continue;
    const value = config.get(d.key);
    if (value !== undefined) raw[d.key] = fromConfigString(value, d.type);
  }
  for (const [key, qualified] of Object.entries(foreignKeys)) {
    const [namespace, name] = qualified.split(":");
    const value = new pulumi.Config(namespace).get(name);
    if (value !== undefined) raw[key] = value;
  }
  const secrets = Object.fromEntries(Object.keys(secretSettings).map((k) => [k, config.getSecret(k) !== undefined])) as Record<SecretKey, boolean>;
  const parsed = parseStackConfig(raw, pulumi.getStack(), secrets);
  const rivals = parsed.manageRepoWorkflows ? otherRepoWorkflowOwners(process.cwd(), parsed) : [];
  if (rivals.length > 0) {
    throw new ConfigError([`${qualifiedKey("manageRepoWorkflows")}: true is claimed by ${rivals.map((s) => `Pulumi.${s}.yaml`).join(", ")} too for ${parsed.githubOwner}/${parsed.githubRepository}: exactly one stack may own the repository-wide workflows; set it false in all but one`]);
  }
  return parsed;
}

/**
 * The other stacks of the project (their files beside Pulumi.yaml) that also own the
 * repository-wide workflows of the same repository: two owners would overwrite each other's
 * files on every `pulumi up`. Stacks kept elsewhere cannot be seen and are not checked.
 */
export function otherRepoWorkflowOwners(projectDir: string, config: Pick<StackConfig, "stack" | "githubOwner" | "githubRepository">): string[] {
  if (!existsSync(join(projectDir, "Pulumi.yaml"))) return [];
  const key = (k: string) => `${projectName}:${k}`;
  return readdirSync(projectDir).flatMap((file) => {
    const stack = /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1];
    if (!stack || stack === config.stack) return [];
    const values = (parse(readFileSync(join(projectDir, file), "utf8")) as { config?: Record<string, unknown> } | null)?.config ?? {};
    const claims = values[key("manageRepoWorkflows")] === true || values[key("manageRepoWorkflows")] === "true";
    return claims && values[key("githubOwner")] === config.githubOwner && values[key("githubRepository")] === config.githubRepository ? [stack] : [];
  });
}

/** The value of an optional secret setting, kept secret (undefined when it is not configured). */
export function secretSetting(key: SecretKey): pulumi.Output<string> | undefined {
  return new pulumi.Config(projectName).getSecret(key);
}
