// The shared logic of the real tier's stand-in resource plugins (aws.ts, github.ts): a Pulumi
// provider, served by @pulumi/pulumi/provider's main() over the engine's gRPC protocol, that knows
// exactly the resource types and functions the project's program uses and refuses every other.
//
// It keeps no state of its own: Create answers a deterministic id and the inputs with the outputs
// the SDK and the program read, Read hands back the state the engine sends (a refresh changes
// nothing), Diff compares the state with the new inputs, replacing on the properties the real
// provider replaces on, Update answers the new outputs, Delete succeeds. Every call is recorded as
// one JSON line in the file named by CANARY_STANDIN_LOG (nothing without it), secrets as "[secret]".
//
// Secrets: the provider accepts secrets (the SDK's Configure answers acceptSecrets), so the engine
// sends each secret value wrapped as { [specialSig]: secretSig, value }; the outputs keep them
// wrapped, an output computed from a secret input is wrapped too, and no secret's plain value is
// ever logged or printed.
import { createHash } from "node:crypto";
import { appendFileSync, readFileSync } from "node:fs";
import type {
  CheckFailure,
  CheckResult,
  CreateResult,
  DiffResult,
  InvokeResult,
  Provider,
  ReadResult,
  UpdateResult,
} from "@pulumi/pulumi/provider";

/** The special-signature key of a wrapped value (Pulumi's property serialisation). */
export const specialSig = "4dabf18193072939515e22adb298388d";
/** The signature of a secret. */
export const secretSig = "1b47061264138c4ac30d75fd1eb44270";
/** The value the engine sends for an unknown (a preview's not-yet-computed output). */
export const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type Props = Record<string, unknown>;

/** What a computed output is given: the plain (unwrapped) inputs and, on update, the previous state. */
export interface ComputeContext {
  readonly urn: string;
  /** The resource's name in its URN. */
  readonly name: string;
  /** The inputs, secrets unwrapped. An output that reads a secret input is returned as a secret. */
  readonly inputs: Props;
}

export interface ResourceSpec {
  /** Inputs the real provider requires: Check fails naming each missing one. */
  readonly required?: readonly string[];
  /** Properties whose change replaces the resource (the real provider's ForceNew, for the properties the program sets). */
  readonly replaces: readonly string[];
  /** The property the real provider autonames (`<name>-<7 hex>`) when the inputs leave it out, and its longest length. */
  readonly autoname?: { readonly property: string; readonly maxLength: number };
  /**
   * Outputs the provider computes (or fills in when an optional input is left out): each from the
   * plain inputs. A diff ignores them when the inputs leave them out.
   */
  readonly computed: Readonly<Record<string, (ctx: ComputeContext) => unknown>>;
  /** Computed outputs that keep their first value over updates (ids the service assigned once). */
  readonly stable?: readonly string[];
  /** Outputs always returned as secrets (the real schema's secret outputs). */
  readonly secretOutputs?: readonly string[];
  /** The resource's id, from the plain inputs and the computed outputs. */
  readonly id: (ctx: ComputeContext, outputs: Props) => string;
}

export interface StandinSpec {
  /** The package: `aws` or `github`. */
  readonly name: string;
  /** The npm package whose `pulumi.version` (the version the SDK asks the engine for) the plugin reports. */
  readonly sdkPackage: string;
  readonly resources: Readonly<Record<string, ResourceSpec>>;
  /** The functions (invokes), from their plain arguments to their result. */
  readonly invokes: Readonly<Record<string, (args: Props) => Props>>;
}

// ---------------------------------------------------------------------------------------------
// Values

function isObject(value: unknown): value is Props {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isSecret(value: unknown): value is Props & { value?: unknown } {
  return isObject(value) && value[specialSig] === secretSig;
}

export function secret(value: unknown): Props {
  return isSecret(value) ? value : { [specialSig]: secretSig, value };
}

/** The value with every secret unwrapped. */
export function unwrap(value: unknown): unknown {
  if (isSecret(value)) return unwrap(value.value);
  if (Array.isArray(value)) return value.map(unwrap);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v)]));
  return value;
}

function containsSecret(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (isObject(value)) return Object.values(value).some(containsSecret);
  return false;
}

/** The plain strings among the secrets in the value. */
function secretStrings(value: unknown, into: Set<string>): Set<string> {
  if (isSecret(value)) {
    const plain = unwrap(value.value);
    if (typeof plain === "string") into.add(plain);
    secretStrings(value.value, into);
  } else if (Array.isArray(value)) value.forEach((v) => secretStrings(v, into));
  else if (isObject(value)) Object.values(value).forEach((v) => secretStrings(v, into));
  return into;
}

/** Absent, null, "" and empty lists and maps are one value to the real (Terraform-based) providers. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map(normalise);
  if (isObject(value)) {
    const entries = Object.entries(value)
      .map(([k, v]) => [k, normalise(v)] as const)
      .filter(([, v]) => v !== undefined);
    return entries.length === 0
      ? undefined
      : Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  return value === null || value === "" ? undefined : value;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalise(unwrap(a))) === JSON.stringify(normalise(unwrap(b)));
}

/** Struct.fromJavaScript refuses undefined: drop such properties. */
function defined(props: Props): Props {
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined));
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A deterministic positive number for a name, as GitHub's numeric ids look. */
export function numericId(kind: string, name: string, digits = 8): number {
  return 10 ** (digits - 1) + (parseInt(sha256Hex(`${kind}:${name}`).slice(0, 12), 16) % (9 * 10 ** (digits - 1)));
}

/** The type token and the name of a URN: `urn:pulumi:<stack>::<project>::<parent$...$type>::<name>`. */
export function parseUrn(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  if (parts.length < 4) throw new Error(`not a resource URN: ${urn}`);
  const qualified = parts[2];
  return { type: qualified.slice(qualified.lastIndexOf("$") + 1), name: parts.slice(3).join("::") };
}

// ---------------------------------------------------------------------------------------------
// The log

const seenSecrets = new Set<string>();

/** The value for the log: every secret as "[secret]", and any string holding a secret's plain value too. */
export function redact(value: unknown): unknown {
  if (isSecret(value)) return "[secret]";
  if (Array.isArray(value)) return value.map(redact);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)]));
  if (typeof value === "string") {
    // Short strings are left alone: a secret that short would blank out ordinary words.
    for (const s of seenSecrets) if (s.length >= 8 && value.includes(s)) return "[secret]";
  }
  return value;
}

/** The property maps of a log entry whose secret properties are redacted by name as well. */
const propertyMaps = ["inputs", "olds", "news", "outputs"];

function record(plugin: string, entry: Props, secretProperties: readonly string[] = []): void {
  // A property the real schema holds secret is secret even when it came unmarked.
  for (const field of propertyMaps) {
    const map = entry[field];
    if (isObject(map)) {
      entry = {
        ...entry,
        [field]: Object.fromEntries(
          Object.entries(map).map(([k, v]) => [
            k,
            secretProperties.includes(k) && v !== undefined && v !== null ? secret(v) : v,
          ]),
        ),
      };
    }
  }
  // Remember every secret this call carries, so that no plain copy of one is logged anywhere.
  secretStrings(entry, seenSecrets);
  const file = process.env.CANARY_STANDIN_LOG;
  if (!file) return;
  const line = JSON.stringify({
    time: new Date().toISOString(),
    plugin,
    pid: process.pid,
    ...(redact(entry) as Props),
  });
  appendFileSync(file, `${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// The provider

/** The version of the SDK package's plugin: what the engine is asked for (`pulumi.version`, else `version`). */
export function sdkPluginVersion(sdkPackage: string): string {
  const manifest = JSON.parse(readFileSync(require.resolve(`${sdkPackage}/package.json`), "utf8")) as {
    version: string;
    pulumi?: { version?: string };
  };
  return manifest.pulumi?.version ?? manifest.version;
}

/** The provider object @pulumi/pulumi/provider's main() serves. */
export function standinProvider(spec: StandinSpec): Provider {
  const log = (entry: Props) => {
    const type = typeof entry.type === "string" ? entry.type : undefined;
    const resource =
      type !== undefined && Object.prototype.hasOwnProperty.call(spec.resources, type)
        ? spec.resources[type]
        : undefined;
    record(spec.name, entry, resource?.secretOutputs);
  };

  const specOf = (urn: string): { type: string; name: string; resource: ResourceSpec } => {
    const { type, name } = parseUrn(urn);
    const resource = Object.prototype.hasOwnProperty.call(spec.resources, type) ? spec.resources[type] : undefined;
    if (resource === undefined)
      throw new Error(
        `the ${spec.name} stand-in does not know the resource type ${type} (it knows ${Object.keys(spec.resources).join(", ")})`,
      );
    return { type, name, resource };
  };

  /** The outputs: the inputs, the computed outputs (secret when computed from a secret input), the secret outputs wrapped. */
  const outputsOf = (urn: string, name: string, resource: ResourceSpec, inputs: Props, previous?: Props): Props => {
    const outs: Props = { ...inputs };
    const plain = unwrap(inputs) as Props;
    for (const [key, compute] of Object.entries(resource.computed)) {
      if (inputs[key] !== undefined) continue;
      if (previous !== undefined && resource.stable?.includes(key) && previous[key] !== undefined) {
        outs[key] = previous[key];
        continue;
      }
      const read = new Set<string>();
      const tracked = new Proxy(plain, {
        get: (target, prop) => {
          if (typeof prop === "string") read.add(prop);
          return target[prop as string];
        },
      });
      const value = compute({ urn, name, inputs: tracked });
      outs[key] = [...read].some((k) => containsSecret(inputs[k])) ? secret(value) : value;
    }
    for (const key of resource.secretOutputs ?? [])
      if (outs[key] !== undefined && outs[key] !== null) outs[key] = secret(outs[key]);
    return defined(outs);
  };

  /** Runs a call's body; a refusal is recorded too, with its message (which names types and tokens, never values). */
  const call = <T>(entry: Props, body: () => T): Promise<T> => {
    try {
      return Promise.resolve(body());
    } catch (error) {
      log({ ...entry, error: error instanceof Error ? error.message : String(error) });
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };

  const provider: Provider = {
    version: sdkPluginVersion(spec.sdkPackage),

    check: (urn: string, olds: Props | undefined, news: Props) =>
      call({ method: "check", urn, news }, (): CheckResult => {
        const { type, name, resource } = specOf(urn);
        const inputs: Props = { ...news };
        const auto = resource.autoname;
        if (auto !== undefined && inputs[auto.property] === undefined) {
          if (olds?.[auto.property] !== undefined) {
            inputs[auto.property] = olds[auto.property];
          } else {
            // The real provider appends 7 random hex digits; here they come from the URN, so that
            // each run names the resource alike.
            const prefix = typeof inputs.namePrefix === "string" ? inputs.namePrefix : `${name}-`;
            inputs[auto.property] = `${prefix.slice(0, auto.maxLength - 7)}${sha256Hex(urn).slice(0, 7)}`;
          }
        }
        const failures: CheckFailure[] = (resource.required ?? [])
          .filter((key) => inputs[key] === undefined || inputs[key] === null)
          .map((key) => ({ property: key, reason: `Missing required argument: ${key} (${type})` }));
        log({ method: "check", type, urn, olds, news, inputs, ...(failures.length > 0 ? { failures } : {}) });
        return { inputs, failures };
      }),

    diff: (id: string, urn: string, olds: Props, news: Props) =>
      call({ method: "diff", urn, id }, (): DiffResult => {
        const { type, resource } = specOf(urn);
        const keys = new Set([...Object.keys(news), ...Object.keys(olds).filter((k) => !(k in resource.computed))]);
        // A preview's unknown (unknownValue) equals no known value: it is a change.
        const changed = [...keys].filter((key) => !same(olds[key], news[key])).sort();
        const replaces = changed.filter((key) => resource.replaces.includes(key));
        log({ method: "diff", type, urn, id, olds, news, changed, replaces });
        return { changes: changed.length > 0, replaces, deleteBeforeReplace: false };
      }),

    create: (urn: string, inputs: Props) =>
      call({ method: "create", urn }, (): CreateResult => {
        const { type, name, resource } = specOf(urn);
        const outs = outputsOf(urn, name, resource, inputs);
        const id = resource.id({ urn, name, inputs: unwrap(inputs) as Props }, unwrap(outs) as Props);
        log({ method: "create", type, urn, inputs, id, outputs: outs });
        return { id, outs };
      }),

    read: (id: string, urn: string, props?: Props) =>
      call({ method: "read", urn, id }, (): ReadResult => {
        const { type } = specOf(urn);
        if (props === undefined || Object.keys(props).length === 0) {
          throw new Error(
            `the ${spec.name} stand-in keeps no state of its own: it reads a resource only from the state the engine sends, and ${type} ${id} came without any (an import cannot be stood in for)`,
          );
        }
        log({ method: "read", type, urn, id, outputs: props });
        return { id, props };
      }),

    update: (id: string, urn: string, olds: Props, news: Props) =>
      call({ method: "update", urn, id }, (): UpdateResult => {
        const { type, name, resource } = specOf(urn);
        const outs = outputsOf(urn, name, resource, news, olds);
        log({ method: "update", type, urn, id, olds, news, outputs: outs });
        return { outs };
      }),

    delete: (id: string, urn: string, props: Props) =>
      call({ method: "delete", urn, id }, (): void => {
        const { type } = specOf(urn);
        log({ method: "delete", type, urn, id, outputs: props });
      }),

    invoke: (token: string, args: Props | undefined) =>
      call({ method: "invoke", token, args }, (): InvokeResult => {
        const fn = Object.prototype.hasOwnProperty.call(spec.invokes, token) ? spec.invokes[token] : undefined;
        if (fn === undefined)
          throw new Error(
            `the ${spec.name} stand-in does not know the function ${token} (it knows ${Object.keys(spec.invokes).join(", ")})`,
          );
        const result = defined(fn(unwrap(args ?? {}) as Props));
        // A result computed from a secret argument is secret as a whole.
        const outputs = containsSecret(args)
          ? Object.fromEntries(Object.entries(result).map(([k, v]) => [k, secret(v)]))
          : result;
        log({ method: "invoke", token, args, outputs });
        return { outputs };
      }),
  };
  return provider;
}
