// Strict validation of rendered Kubernetes objects against the API's OpenAPI schemas, with the
// validators kubernetes-models (v5) compiles from them. Those validators check types, required
// fields, enums and formats but accept unknown fields (`spec.replica: 3` passes: they are generated
// from the OpenAPI schemas, which do not set `additionalProperties: false`). The API server would
// drop such a field silently, so here the object is validated through a Proxy that records which
// keys the validator reads: a key it never reads is not in the schema, except under free-form maps
// (labels, data, resources.limits...), whose keys are data rather than fields.
// A custom kind (Argo Rollouts' Rollout and AnalysisTemplate) has no model: it is validated against
// its CustomResourceDefinition's structural schema (crd-schema.ts), its metadata as the ObjectMeta
// the API server checks every object's against.
import { crdSchema, schemaProblem, structuralProblems } from "./crd-schema";

/** A validator's view of an object: model classes carry the compiled schema as `validate`. */
type ModelClass = { prototype: { validate(this: unknown): void } };

/**
 * Paths (dotted, array elements as `[]`) of free-form maps: their keys are data. The validator
 * reads most of them anyway (their values are typed); the list also covers those it does not.
 */
const freeFormMaps: readonly RegExp[] = [
  /(^|\.)metadata\.(labels|annotations)$/,
  /^(data|stringData|binaryData)$/,
  /\.matchLabels$/,
  /\.nodeSelector$/,
  /(^|\.)resources\.(limits|requests)$/,
  /(^|\.)overhead$/,
];

const modules = new Map<string, Promise<Record<string, unknown>>>();

/** The model class of an apiVersion and kind, or undefined when kubernetes-models has none. */
async function modelClass(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion)) return undefined;
  let module = modules.get(apiVersion);
  if (!module) {
    // kubernetes-models is ESM only: a dynamic import loads it from this CommonJS project.
    module = import(`kubernetes-models/${apiVersion}`).then(
      (m: Record<string, unknown>) => m,
      () => ({}),
    );
    modules.set(apiVersion, module);
  }
  const candidate = (await module)[kind];
  return typeof candidate === "function" ? candidate : undefined;
}

/** Wraps a value so that every own key read through it (at any depth) is recorded. */
function recordReads(root: unknown): { proxy: unknown; reads: WeakMap<object, Set<string>> } {
  const reads = new WeakMap<object, Set<string>>();
  const proxies = new WeakMap<object, object>();
  const wrap = (value: unknown): unknown => {
    if (value === null || typeof value !== "object") return value;
    const existing = proxies.get(value);
    if (existing) return existing;
    const seen = new Set<string>();
    reads.set(value, seen);
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        if (typeof key === "string" && Object.hasOwn(target, key)) seen.add(key);
        return wrap(Reflect.get(target, key, receiver));
      },
      has(target, key) {
        if (typeof key === "string" && Object.hasOwn(target, key)) seen.add(key);
        return Reflect.has(target, key);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  return { proxy: wrap(root), reads };
}

/** The keys of `value` (at any depth) that the validator never read, as paths. */
function unreadKeys(value: unknown, reads: WeakMap<object, Set<string>>, path: string, pattern: string): string[] {
  if (value === null || typeof value !== "object") return [];
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => unreadKeys(item, reads, `${path}[${i}]`, `${pattern}[]`));
  }
  if (freeFormMaps.some((m) => m.test(pattern))) return [];
  const seen = reads.get(value) ?? new Set<string>();
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => {
    const childPath = path ? `${path}.${key}` : key;
    if (!seen.has(key)) return [childPath];
    return unreadKeys(child, reads, childPath, pattern ? `${pattern}.${key}` : key);
  });
}

/**
 * Every problem of a Kubernetes object: schema violations (as the validator words them) and
 * unknown fields (`unknown field spec.replica`). Empty when the object is valid.
 */
export async function schemaProblems(object: unknown): Promise<string[]> {
  if (object === null || typeof object !== "object" || Array.isArray(object)) return ["not an object"];
  const { apiVersion, kind } = object as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== "string" || typeof kind !== "string") return ["apiVersion and kind must be strings"];
  const model = await modelClass(apiVersion, kind);
  if (!model) return customResourceProblems(object as Record<string, unknown>, apiVersion, kind);
  const { proxy, reads } = recordReads(object);
  const problems: string[] = [];
  try {
    model.prototype.validate.call(proxy);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  problems.push(...unreadKeys(object, reads, "", "").map((p) => `unknown field ${p}`));
  return problems;
}

/** A custom resource against its CRD's schema, and its metadata as ObjectMeta (through a ConfigMap's model). */
async function customResourceProblems(object: Record<string, unknown>, apiVersion: string, kind: string) {
  const schema = crdSchema(apiVersion, kind);
  if (!schema) return [`no schema for ${apiVersion} ${kind}${schemaProblem() ? `: ${schemaProblem()}` : ""}`];
  const { metadata, ...rest } = object;
  const meta = await schemaProblems({ apiVersion: "v1", kind: "ConfigMap", metadata });
  const { properties, ...root } = schema;
  const withoutMetadata = {
    ...root,
    properties: Object.fromEntries(Object.entries(properties ?? {}).filter(([k]) => k !== "metadata")),
  };
  return [...meta, ...structuralProblems(withoutMetadata, rest)];
}

/** Throws one error naming every problem of the object (see schemaProblems). */
export async function assertValidObject(object: unknown, label = "object"): Promise<void> {
  const problems = await schemaProblems(object);
  if (problems.length > 0) throw new Error(`${label} is not a valid Kubernetes object:\n  ${problems.join("\n  ")}`);
}
