// The schemas of the custom kinds a render may declare (canaryEngine argo-rollouts: Argo Rollouts'
// Rollout and AnalysisTemplate), read from the CustomResourceDefinitions of the version the real
// tier installs: tools/argo-rollouts/go.mod pins github.com/argoproj/argo-rollouts, and
// tools/build.sh argo-rollouts concatenates that module's manifests/crds/*-crd.yaml into
// out/tools/bin/argo-rollouts-crds.yaml. Without that file, the module's own manifests in the Go
// module cache (the same bytes) are read. An object is then validated as the API server validates a
// custom resource against a structural schema (k8s.io/apiextensions-apiserver pkg/apiserver/schema:
// types, required, enum, pattern, formats, int-or-string, nullable), and every field the schema does
// not declare is reported as unknown, as the server would prune it silently (pruning.go), except
// under x-kubernetes-preserve-unknown-fields and maps (additionalProperties).
// Not evaluated: x-kubernetes-validations, whose one rule in these CRDs (Rollout spec.selector:
// `self == oldSelf`) is a transition rule, which a create never runs.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";

/** A structural schema node, as a CRD's openAPIV3Schema holds it. */
export interface StructuralSchema {
  readonly type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  readonly properties?: Record<string, StructuralSchema>;
  readonly additionalProperties?: StructuralSchema | boolean;
  readonly items?: StructuralSchema;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  readonly format?: string;
  readonly nullable?: boolean;
  readonly anyOf?: readonly StructuralSchema[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly "x-kubernetes-int-or-string"?: boolean;
  readonly "x-kubernetes-preserve-unknown-fields"?: boolean;
  readonly "x-kubernetes-embedded-resource"?: boolean;
}

interface CustomResourceDefinition {
  readonly kind?: string;
  readonly metadata?: { readonly name?: string };
  readonly spec?: {
    readonly group: string;
    readonly names: { readonly kind: string; readonly plural: string };
    readonly versions: readonly {
      readonly name: string;
      readonly served?: boolean;
      readonly schema?: { readonly openAPIV3Schema?: StructuralSchema };
    }[];
  };
}

const module = "github.com/argoproj/argo-rollouts";
const root = resolve(__dirname, "..");

/** The version tools/argo-rollouts/go.mod selects (its replace, if any, else its require). */
export function pinnedArgoRolloutsVersion(
  goMod = readFileSync(join(root, "tools", "argo-rollouts", "go.mod"), "utf8"),
) {
  const replaced = new RegExp(`^\\s*${module.replace(/[./]/g, "\\$&")}\\s.*=>\\s*\\S+\\s+(v\\S+)`, "m").exec(goMod);
  const required = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[./]/g, "\\$&")}\\s+(v\\S+)`, "m").exec(goMod);
  return replaced?.[1] ?? required?.[1];
}

/** Where the CRDs are read from: the built file, else the pinned module's manifests; undefined: neither is there. */
function crdSources(): { files: string[]; from: string } | undefined {
  const built = join(process.env.CANARY_TOOLS_BIN ?? join(root, "out", "tools", "bin"), "argo-rollouts-crds.yaml");
  if (existsSync(built)) return { files: [built], from: built };
  const version = pinnedArgoRolloutsVersion();
  if (version === undefined) return undefined;
  const cache =
    process.env.GOMODCACHE ||
    (() => {
      const go = spawnSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" });
      return go.status === 0 ? go.stdout.trim() : "";
    })();
  const folder = join(cache, `${module}@${version}`, "manifests", "crds");
  if (cache === "" || !existsSync(folder)) return undefined;
  return {
    files: readdirSync(folder)
      .filter((f) => f.endsWith("-crd.yaml"))
      .sort()
      .map((f) => join(folder, f)),
    from: folder,
  };
}

let loaded: Map<string, StructuralSchema> | undefined;
/** Why the CRDs could not be read (empty: they were). */
export let crdsMissing = "";

/** The schema of every served version of the Argo Rollouts CRDs, by `apiVersion/kind`. */
function schemas(): Map<string, StructuralSchema> {
  if (loaded) return loaded;
  loaded = new Map();
  const sources = crdSources();
  if (!sources) {
    crdsMissing = `the Argo Rollouts CustomResourceDefinitions are not built (run tools/build.sh argo-rollouts) nor in the Go module cache (${module}@${pinnedArgoRolloutsVersion() ?? "?"})`;
    return loaded;
  }
  for (const file of sources.files)
    for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
      const crd = document.toJS() as CustomResourceDefinition | null;
      if (crd?.kind !== "CustomResourceDefinition" || !crd.spec) continue;
      for (const version of crd.spec.versions)
        if (version.served !== false && version.schema?.openAPIV3Schema)
          loaded.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, version.schema.openAPIV3Schema);
    }
  return loaded;
}

/** The CRD schema of a custom kind, or undefined (with crdsMissing saying why, when the CRDs could not be read). */
export function crdSchema(apiVersion: string, kind: string): StructuralSchema | undefined {
  return schemas().get(`${apiVersion}/${kind}`);
}

const typeOf = (value: unknown): string =>
  value === null
    ? "null"
    : Array.isArray(value)
      ? "array"
      : typeof value === "number"
        ? Number.isInteger(value)
          ? "integer"
          : "number"
        : typeof value;

/** Whether a value is of a schema's type (an integer is a number too; int-or-string: either). */
function typeMatches(schema: StructuralSchema, value: unknown): boolean {
  if (value === null) return schema.nullable === true;
  if (schema["x-kubernetes-int-or-string"]) return typeOf(value) === "integer" || typeof value === "string";
  if (schema.type === undefined) return true;
  const actual = typeOf(value);
  return actual === schema.type || (schema.type === "number" && actual === "integer");
}

const formatRanges: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/**
 * Every problem of `value` against a structural schema, each naming its path: a wrong type, a
 * missing required field, a value outside its enum, pattern, format or bounds, and an unknown field.
 */
export function structuralProblems(schema: StructuralSchema, value: unknown, path = ""): string[] {
  const at = path || "(root)";
  if (!typeMatches(schema, value))
    return [
      `${at}: must be ${schema["x-kubernetes-int-or-string"] ? "an integer or a string" : `of type ${schema.type}`}, not ${typeOf(value)}`,
    ];
  if (value === null) return [];
  const problems: string[] = [];
  if (schema.anyOf && !schema.anyOf.some((s) => structuralProblems(s, value, path).length === 0))
    problems.push(`${at}: matches none of its allowed forms`);
  if (schema.enum && !schema.enum.includes(value))
    problems.push(`${at}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`);
  if (typeof value === "string") {
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value))
      problems.push(`${at}: must match ${schema.pattern}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      problems.push(`${at}: longer than ${schema.maxLength}`);
    if (schema.minLength !== undefined && value.length < schema.minLength)
      problems.push(`${at}: shorter than ${schema.minLength}`);
  }
  if (typeof value === "number") {
    const range = schema.format ? formatRanges[schema.format] : undefined;
    if (range && (value < range[0] || value > range[1])) problems.push(`${at}: out of the ${schema.format} range`);
    if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${at}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${at}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      problems.push(`${at}: more than ${schema.maxItems} items`);
    if (schema.minItems !== undefined && value.length < schema.minItems)
      problems.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.items)
      value.forEach((item, i) => problems.push(...structuralProblems(schema.items!, item, `${path}[${i}]`)));
  }
  if (typeOf(value) === "object") {
    const object = value as Record<string, unknown>;
    for (const key of schema.required ?? [])
      if (!(key in object)) problems.push(`${path ? `${path}.` : ""}${key}: required`);
    for (const [key, child] of Object.entries(object)) {
      const childPath = path ? `${path}.${key}` : key;
      const declared = schema.properties?.[key];
      if (declared) problems.push(...structuralProblems(declared, child, childPath));
      else if (typeof schema.additionalProperties === "object")
        problems.push(...structuralProblems(schema.additionalProperties, child, childPath));
      else if (schema.additionalProperties !== true && !schema["x-kubernetes-preserve-unknown-fields"])
        problems.push(`unknown field ${childPath}`);
    }
  }
  return problems;
}
