// The schemas of the custom kinds a render may declare (canaryEngine argo-rollouts: Argo Rollouts'
// Rollout and AnalysisTemplate), from the CustomResourceDefinitions of the version the real tier
// installs (tools/argo-rollouts/go.mod pins github.com/argoproj/argo-rollouts; tools/build.sh
// argo-rollouts writes its CRDs into out/tools/bin/argo-rollouts-crds.yaml). The offline suite runs
// with Node alone, so the two kinds' schemas, without their descriptions, are committed in
// verify/argo-rollouts-schemas.json (`npm run schemas:argo` writes it from the built CRDs); the
// real tier checks it is exactly that (test/cluster/argo-controller.test.ts), and a file of another
// version than the pinned one is refused. An object is validated as the API server validates a
// custom resource against a structural schema (k8s.io/apiextensions-apiserver pkg/apiserver/schema:
// types, required, enum, pattern, formats, int-or-string, nullable), and every field the schema does
// not declare is reported as unknown, as the server would prune it silently (pruning.go), except
// under x-kubernetes-preserve-unknown-fields and maps (additionalProperties).
// Not evaluated: x-kubernetes-validations, whose one rule in these CRDs (Rollout spec.selector:
// `self == oldSelf`) is a transition rule, which a create never runs.
import { readFileSync, writeFileSync } from "node:fs";
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

const argoModule = "github.com/argoproj/argo-rollouts";
const root = resolve(__dirname, "..");
/** The kinds a render declares, whose schemas are kept: the Rollout and its AnalysisTemplates. */
const keptKinds = ["Rollout", "AnalysisTemplate"];
/** The committed schemas (`npm run schemas:argo` writes them from the built CRDs; the real tier checks they are those). */
export const schemasFile = join(root, "verify", "argo-rollouts-schemas.json");

/** The version tools/argo-rollouts/go.mod selects (its replace, if any, else its require). */
export function pinnedArgoRolloutsVersion(
  goMod = readFileSync(join(root, "tools", "argo-rollouts", "go.mod"), "utf8"),
) {
  const replaced = new RegExp(`^\\s*${argoModule.replace(/[./]/g, "\\$&")}\\s.*=>\\s*\\S+\\s+(v\\S+)`, "m").exec(goMod);
  const required = new RegExp(`^\\s*(?:require\\s+)?${argoModule.replace(/[./]/g, "\\$&")}\\s+(v\\S+)`, "m").exec(
    goMod,
  );
  return replaced?.[1] ?? required?.[1];
}

/** A schema without its descriptions: what a structural validation reads. */
function withoutDescriptions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDescriptions);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== "description")
      .map(([key, v]) => [key, withoutDescriptions(v)]),
  );
}

/** The committed file's content: the kept kinds' schemas of every served version, by `apiVersion/kind`. */
export interface ArgoRolloutsSchemas {
  readonly version: string;
  readonly schemas: Record<string, StructuralSchema>;
}

/** The schemas as `npm run schemas:argo` extracts them from the CRDs' YAML (tools/build.sh argo-rollouts writes it). */
export function extractSchemas(crdsYaml: string, version: string): ArgoRolloutsSchemas {
  const schemas: Record<string, StructuralSchema> = {};
  for (const document of parseAllDocuments(crdsYaml)) {
    const crd = document.toJS() as CustomResourceDefinition | null;
    if (crd?.kind !== "CustomResourceDefinition" || !crd.spec || !keptKinds.includes(crd.spec.names.kind)) continue;
    for (const v of crd.spec.versions)
      if (v.served !== false && v.schema?.openAPIV3Schema)
        schemas[`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`] = withoutDescriptions(
          v.schema.openAPIV3Schema,
        ) as StructuralSchema;
  }
  return { version, schemas };
}

let loaded: ArgoRolloutsSchemas | undefined;

/** The committed schemas, checked against the version tools/argo-rollouts/go.mod pins. */
function schemas(): ArgoRolloutsSchemas {
  loaded ??= JSON.parse(readFileSync(schemasFile, "utf8")) as ArgoRolloutsSchemas;
  return loaded;
}

/** Why the schemas cannot be trusted (empty: they can): they were extracted from another version than the pinned one. */
export const schemaProblem = (): string => {
  const pinned = pinnedArgoRolloutsVersion();
  const { version } = schemas();
  return version === pinned
    ? ""
    : `verify/argo-rollouts-schemas.json holds ${argoModule}@${version}'s schemas, not the pinned ${String(pinned)}: run tools/build.sh argo-rollouts, then npm run schemas:argo`;
};

/** The CRD schema of a custom kind, or undefined (schemaProblem() says why, when the schemas are not the pinned version's). */
export function crdSchema(apiVersion: string, kind: string): StructuralSchema | undefined {
  return schemaProblem() === "" ? schemas().schemas[`${apiVersion}/${kind}`] : undefined;
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

/** `npm run schemas:argo`: writes verify/argo-rollouts-schemas.json from the built CRDs. */
if (require.main === module) {
  const built = join(process.env.CANARY_TOOLS_BIN ?? join(root, "out", "tools", "bin"), "argo-rollouts-crds.yaml");
  const version = pinnedArgoRolloutsVersion() ?? "";
  writeFileSync(schemasFile, `${JSON.stringify(extractSchemas(readFileSync(built, "utf8"), version))}\n`);
  console.log(`${schemasFile}: ${version}`);
}
