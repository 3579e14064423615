// Reads the stack's configuration and validates all of it at once, synchronously, before any
// resource is registered: a mistake stops the program with one line per problem and no trace.
// The rules that need the service's plan (the canary's lifetime against its job's time limit) are
// the components' (components/service-checks.ts): config/ imports no component.
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import {
  ConfigError,
  qualifiedKey,
  settingsError,
  stackSettingNames,
  type InputProblem,
  type SettingNames,
  type SettingPath,
} from "./errors";
import {
  configSchema,
  foreignKeys,
  projectName,
  resolveDefaults,
  secretSettings,
  stackConfigSchema,
  type ClusterLocationKey,
  type SecretKey,
  type StackConfig,
} from "./schema";
import { previewedIdentities, previewIdentityProblems, type PreviewStackIdentity } from "./preview-identities";
import { parseStackFile, readProjectFile, StackFileError } from "./stack-file";

export { ConfigError, qualifiedKey } from "./errors";

/** The types Pulumi.yaml's `config:` block allows. */
export type PulumiConfigType = "string" | "integer" | "boolean" | "array";

/**
 * One declared setting, as Pulumi.yaml's `config:` block states it. An object setting is declared
 * without a type: Pulumi.yaml has no object type (pulumi/pulumi sdk/go/common/workspace/project.json,
 * simpleConfigType), and the CLI checks only explicitly typed values (workspace/config.go,
 * IsExplicitlyTyped), so the schema alone checks it.
 */
export interface ConfigDeclaration {
  readonly key: string;
  readonly type?: PulumiConfigType;
  /** An array's element type. */
  readonly items?: { readonly type: PulumiConfigType };
  readonly description: string;
  readonly default?: unknown;
  readonly secret?: true;
  /** What the schema accepts, as docs/configuration.md states it: `string or number`. */
  readonly accepts: string;
  /**
   * Left out of Pulumi.yaml's `config:` block (listed under it as a comment), and checked by the
   * schema alone: a setting that may be unset and has no default, since the CLI requires every key
   * declared without a default (pulumi/pulumi pkg/workspace/config.go, mergeConfig: "Stack 'dev' is
   * missing configuration values …"); and a list of objects, which the block's types do not
   * describe (read as JSON).
   */
  readonly undeclared?: true;
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
function pulumiType(key: string, s: JsonSchemaType, inArray = false): PulumiConfigType | undefined {
  const types = [...new Set(jsonTypes(s))];
  const [only] = types;
  if (!inArray && types.length === 1 && only === "object") return undefined;
  if (types.length === 1 && (only === "string" || only === "integer" || only === "boolean" || only === "array"))
    return only;
  if (!inArray && types.every((t) => t === "string" || t === "integer" || t === "number")) return "string";
  if (inArray && types.length === 2 && types.includes("integer") && digitsOnly(s)) return "integer";
  throw new Error(`${key}: no Pulumi.yaml type takes ${types.join(" or ")}${inArray ? " in an array" : ""}`);
}

const typed = (type: PulumiConfigType | undefined) => (type ? { type } : {});

const accepts = (s: JsonSchemaType): string =>
  s.items ? `array of ${accepts(s.items)}` : [...new Set(jsonTypes(s))].join(" or ");

/** Every setting of the project namespace, derived from the schema (the one source of truth). */
export function configDeclarations(): ConfigDeclaration[] {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
  const properties = schema.properties as Record<string, JsonSchemaType & { description: string }>;
  const required = new Set(schema.required ?? []);
  const declared = Object.entries(properties)
    .filter(([key]) => !(key in foreignKeys))
    .map(([key, p]): ConfigDeclaration =>
      p.items && jsonTypes(p.items).includes("object")
        ? {
            key,
            type: "array",
            description: p.description,
            accepts: "array of object",
            undeclared: true,
          }
        : {
            key,
            ...typed(pulumiType(key, p)),
            ...(p.items ? { items: { type: pulumiType(key, p.items, true)! } } : {}),
            description: p.description,
            ...(p.default !== undefined ? { default: p.default } : {}),
            accepts: accepts(p),
            ...(p.default === undefined && !required.has(key) ? { undeclared: true } : {}),
          },
    );
  const secrets = Object.entries(secretSettings).map(([key, description]): ConfigDeclaration => ({
    key,
    type: "string",
    description,
    secret: true,
    accepts: "string (secret)",
    undeclared: true,
  }));
  return [...declared, ...secrets];
}

// Whether the CLI handed the program a key as a secret (a `secure:` value, or `pulumi config set
// --secret`): the SDK's own test, which its public API does not export.
const isConfigSecret = (key: string): boolean =>
  (runtimeConfig as unknown as { isConfigSecret(key: string): boolean }).isConfigSecret(key);

// Config values reach the program as strings (arrays as JSON). Convert those that parse as the
// declared type; leave the rest as they are for the schema to reject with its own message.
function fromConfigString(value: string, type: ConfigDeclaration["type"]): unknown {
  if (type === "boolean" && (value === "true" || value === "false")) return value === "true";
  if (type === "integer" && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  if ((type === "array" && value.trim().startsWith("[")) || (type === undefined && value.trim().startsWith("{"))) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}

const show = (value: unknown) =>
  typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? "undefined");

/** The schema's problems, each at its path: the value, and what would be valid or the fix. */
function describeProblems(
  error: z.ZodError,
  raw: Record<string, unknown>,
  names: SettingNames,
): { path: SettingPath; reason: string }[] {
  return error.issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === "number" ? p : String(p)));
    let value: unknown = raw;
    for (const i of path) value = (value as Record<string | number, unknown> | undefined)?.[i];
    if (value === undefined && issue.code === "invalid_type")
      return { path, reason: `is required: ${names.howToSet(path)}` };
    return {
      path,
      reason:
        issue.message.startsWith("must") && value !== undefined ? `${show(value)} ${issue.message}` : issue.message,
    };
  });
}

/**
 * Validates raw settings (already typed, as a test or a library caller gives them) and resolves
 * every default. `given`: location keys the caller supplies as Inputs instead (they count as set).
 * `others`: the Pulumi identities of the project's other stacks, by name, as their own settings
 * give them (loadStackConfig reads their stack files: otherStackIdentities): a preview identity
 * shared between a gated and an ungated stack is refused, and the stack with manageRepoWorkflows
 * renders each previewed stack's job with that stack's own identity (StackConfig.previewIdentities).
 * Throws one ConfigError naming every problem, each setting named by `names`: a stack's keys
 * (`canary-pipeline:replicas`, `aws:region`) unless the caller names them otherwise
 * (CanaryPipeline: `settings.replicas`, argsSettingNames).
 */
export function parseStackConfig(
  raw: Record<string, unknown>,
  stack: string,
  secrets: Record<SecretKey, boolean>,
  given: ReadonlySet<ClusterLocationKey> = new Set(),
  names: SettingNames = stackSettingNames,
  others: Readonly<Record<string, PreviewStackIdentity>> = {},
): StackConfig {
  const known = Object.fromEntries(Object.entries(raw).filter(([k]) => k in configSchema.shape));
  const problems: { path: SettingPath; reason: string }[] = Object.keys(raw)
    .filter((k) => !(k in known))
    .map((k) => ({ path: [k], reason: names.unknownKey }));
  const result = stackConfigSchema(given, names).safeParse(known);
  if (!result.success) problems.push(...describeProblems(result.error, known, names));
  else problems.push(...previewIdentityProblems(stack, result.data, others, names));
  const error = settingsError(names, problems);
  if (error !== undefined || !result.success) throw error ?? new ConfigError([]);
  return resolveDefaults(result.data, stack, secrets, previewedIdentities(stack, result.data, others));
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
    if (d.undeclared) {
      // JSON as the stack file's list gives it; anything else is left for the schema to refuse.
      if (value !== undefined)
        raw[d.key] = ((): unknown => {
          try {
            return JSON.parse(value) as unknown;
          } catch {
            return value;
          }
        })();
      continue;
    }
    if (value !== undefined) raw[d.key] = fromConfigString(value, d.type);
  }
  for (const [key, qualified] of Object.entries(foreignKeys)) {
    const [namespace, name] = qualified.split(":");
    const value = new pulumi.Config(namespace).get(name);
    if (value !== undefined) raw[key] = value;
  }
  const plainSecrets = Object.keys(secretSettings).filter(
    (k) => config.get(k) !== undefined && !isConfigSecret(qualifiedKey(k)),
  );
  if (plainSecrets.length > 0) {
    throw new ConfigError(
      plainSecrets.map((k) => ({
        propertyPath: qualifiedKey(k),
        reason: `is a secret but is set in plain text in the stack file: remove it there and run \`pulumi config set --secret ${k} <value>\``,
      })),
    );
  }
  const secrets = Object.fromEntries(
    Object.keys(secretSettings).map((k) => [k, config.getSecret(k) !== undefined]),
  ) as Record<SecretKey, boolean>;
  const parsed = parseStackConfig(
    raw,
    pulumi.getStack(),
    secrets,
    undefined,
    undefined,
    otherStackIdentities(process.cwd(), pulumi.getStack()),
  );
  const problems: InputProblem[] = [];
  const problem = (key: string, reason: string) => problems.push({ propertyPath: qualifiedKey(key), reason });
  const owners = parsed.manageRepoWorkflows ? otherRepoWorkflowOwners(process.cwd(), parsed) : [];
  if (owners.length > 0) {
    problem(
      "manageRepoWorkflows",
      `true is claimed by ${owners.map((s) => `Pulumi.${s}.yaml`).join(", ")} too for ${parsed.githubOwner}/${parsed.githubRepository}: exactly one stack may own the repository-wide workflows; set it false in all but one`,
    );
  }
  const accounts = new pulumi.Config("aws").getObject<string[]>("allowedAccountIds");
  const creators =
    parsed.oidcProviderArn === undefined ? otherOidcProviderCreators(process.cwd(), parsed.stack, accounts) : [];
  if (creators.length > 0) {
    problem(
      "oidcProviderArn",
      `is unset here and in ${creators.map((s) => `Pulumi.${s}.yaml`).join(", ")}, so each would create the AWS account's GitHub OIDC provider, and an account holds one (the second create fails EntityAlreadyExists): let one stack create it and set oidcProviderArn to arn:aws:iam::ACCOUNT:oidc-provider/token.actions.githubusercontent.com in the others; stacks in different accounts say so with aws:allowedAccountIds`,
    );
  }
  const otherModes = parsed.manageRepoWorkflows ? previewStacksDeployingOtherwise(process.cwd(), parsed) : [];
  if (otherModes.length > 0) {
    problem(
      "previewStacks",
      `${otherModes.map((s) => `Pulumi.${s}.yaml`).join(", ")} deploys with another clusterAuth than this stack (${parsed.clusterAuth}), whose infra-preview.yml previews it: give the project's stacks one clusterAuth`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed;
}

/**
 * The other stack files beside the project's Pulumi.yaml, with their settings, when this stack's
 * own file is among them (a stack configured from elsewhere, such as `--config-file`, is compared
 * with none). Stacks kept elsewhere cannot be seen. Each is read as the CLI reads it for that
 * stack's program (config/stack-file.ts: bare keys, merge keys, Pulumi.yaml's defaults): its
 * values by qualified key, scalars as the strings the program receives, lists and maps parsed.
 */
function otherStackFiles(projectDir: string, stack: string): { stack: string; values: Record<string, unknown> }[] {
  const own = ["yaml", "yml"].some((ext) => existsSync(join(projectDir, `Pulumi.${stack}.${ext}`)));
  const projectFile = join(projectDir, "Pulumi.yaml");
  if (!existsSync(projectFile) || !own) return [];
  const project = readProjectFile(projectFile);
  return readdirSync(projectDir).flatMap((file) => {
    const other = /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1];
    if (!other || other === stack) return [];
    try {
      return [
        { stack: other, values: parseStackFile(readFileSync(join(projectDir, file), "utf8"), project, file).values },
      ];
    } catch (error) {
      if (error instanceof StackFileError)
        throw new ConfigError([
          {
            propertyPath: error.file,
            reason: `${error.reason}: the cross-stack checks read every stack file of the project; fix it`,
          },
        ]);
      throw error;
    }
  });
}

/**
 * The Pulumi identity of each other stack of the project, by stack name, as its stack file gives
 * it (unvalidated: each stack's own run validates its values; a value of the wrong shape counts as
 * unset). None when this stack's own file is not beside Pulumi.yaml.
 */
export function otherStackIdentities(projectDir: string, stack: string): Record<string, PreviewStackIdentity> {
  const text = (values: Record<string, unknown>, key: string) => {
    const value = values[`${projectName}:${key}`];
    return typeof value === "string" && value !== "" ? value : undefined;
  };
  return Object.fromEntries(
    otherStackFiles(projectDir, stack).map(({ stack: other, values }) => {
      const reviewers = values[`${projectName}:requiredReviewers`];
      const identity: PreviewStackIdentity = {
        ...Object.fromEntries(
          (["pulumiBackendUrl", "pulumiOrganization", "pulumiTeam", "pulumiSecretsKeyArn"] as const).flatMap((key) => {
            const value = text(values, key);
            return value === undefined ? [] : [[key, value]];
          }),
        ),
        gated: Array.isArray(reviewers) && reviewers.length > 0,
      };
      return [other, identity];
    }),
  );
}

/**
 * The other stacks of the project that also own the repository-wide workflows of the same
 * repository: two owners would overwrite each other's files on every `pulumi up`.
 */
export function otherRepoWorkflowOwners(
  projectDir: string,
  config: Pick<StackConfig, "stack" | "githubOwner" | "githubRepository">,
): string[] {
  const key = (k: string) => `${projectName}:${k}`;
  return otherStackFiles(projectDir, config.stack).flatMap(({ stack, values }) => {
    const claims = values[key("manageRepoWorkflows")] === "true";
    return claims &&
      values[key("githubOwner")] === config.githubOwner &&
      values[key("githubRepository")] === config.githubRepository
      ? [stack]
      : [];
  });
}

/** The preview stacks whose files name another clusterAuth than this stack's (default eks). */
export function previewStacksDeployingOtherwise(
  projectDir: string,
  config: Pick<StackConfig, "stack" | "previewStacks" | "clusterAuth">,
): string[] {
  return otherStackFiles(projectDir, config.stack).flatMap(({ stack, values }) =>
    config.previewStacks.includes(stack) && (values[`${projectName}:clusterAuth`] ?? "eks") !== config.clusterAuth
      ? [stack]
      : [],
  );
}

/**
 * The other stacks of the project that would create the GitHub OIDC provider (no oidcProviderArn)
 * in what may be this stack's AWS account. The account is known only from each stack's
 * aws:allowedAccountIds; stacks that name none may share one, and count as sharing it.
 */
export function otherOidcProviderCreators(
  projectDir: string,
  stack: string,
  accounts: readonly string[] | undefined,
): string[] {
  return otherStackFiles(projectDir, stack).flatMap(({ stack: other, values }) => {
    if (values[`${projectName}:oidcProviderArn`] !== undefined) return [];
    const theirs = values["aws:allowedAccountIds"];
    const known = (list: unknown): list is unknown[] => Array.isArray(list) && list.length > 0;
    const disjoint = known(accounts) && known(theirs) && !theirs.some((a) => accounts.includes(String(a)));
    return disjoint ? [] : [other];
  });
}

/** The value of an optional secret setting, kept secret (undefined when it is not configured). */
export function secretSetting(key: SecretKey): pulumi.Output<string> | undefined {
  return new pulumi.Config(projectName).getSecret(key);
}
