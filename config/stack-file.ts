// Reads a stack file (Pulumi.<stack>.yaml) into the configuration the Pulumi CLI (v3.274.1) hands
// the program: every value a string, keyed by its qualified key, with the project's declared
// defaults from Pulumi.yaml. Each rule follows the CLI's source (pulumi/pulumi, sdk/v3 and pkg/v3):
//
// - The file is decoded as gopkg.in/yaml.v3 decodes it (sdk go/common/encoding, yamlMarshaler):
//   YAML 1.2 scalars as yaml.v3 resolves them (resolve.go: `yes` is text, `010` is 8, `1_000` is
//   1000, `2024-01-02` a timestamp), `<<` merge keys applied (a key of the map itself wins over a
//   merged one, an earlier merged map over a later one), duplicate keys refused.
// - A key without a namespace belongs to the project: `replicas` is `canary-pipeline:replicas`
//   (workspace/loaders.go, stackConfigNamespacedWithProject); `ns:config:name` is `ns:name`
//   (resource/config/key.go, ParseKey).
// - The decoded file is encoded and decoded once more before the values are read
//   (LoadProjectStackBytes): a quoted "<<" key comes back a merge key, a nested key that is not
//   text (`5:`) is named with fmt's %v. Then each value becomes a config.Value
//   (resource/config/object.go, unmarshalObject and MarshalString): text stays text; a boolean or
//   a number is its JSON (`1.0` is `1`, `1e3` is `1000`, `1e21` is `1e+21`); a timestamp is Go's
//   time.String() (`2024-01-02 00:00:00 +0000 UTC`); an empty value is ""; a list or map is JSON
//   as the program receives it (Plaintext.marshalText: encoding/json, keys sorted, `<`, `>`, `&`
//   escaped, whole numbers beyond 64 bits as floats). A map of exactly `secure: <ciphertext>` is a
//   secret, also inside a list or map. `pulumi config --json` prints these same strings
//   (pkg/v3 cmd/pulumi/config, listConfig: both decrypt through config.Map.Decrypt).
// - Pulumi.yaml's `default` (or `value`) of each key the stack does not set is added as the CLI
//   adds it before the program starts (pkg/v3 workspace/config.go, mergeConfig): text, a whole
//   number or a boolean as its text, anything else as JSON.
//
// Offline a `secure:` value cannot be decrypted: it becomes a placeholder, still secret. What the
// CLI refuses is refused here too (an error naming the file), as is what it leaves to chance (a
// bare and a qualified key naming one setting: which wins depends on Go's map order) and what only
// a Pulumi Cloud session could supply (an ESC `environment:`). Timestamps with a UTC offset other
// than 0 are named as a CLI on a machine whose local zone is UTC names them.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Document } from "yaml";
import { projectName } from "./schema";

export interface StackSettings {
  /** Values by qualified key (`canary-pipeline:replicas`), as strings the way the CLI passes them. */
  readonly config: Record<string, string>;
  /** Qualified keys whose values are secret. */
  readonly secretKeys: string[];
}

/** A stack file as the CLI reads it. */
export interface StackFile extends StackSettings {
  /**
   * Each value as `pulumi config --json` shows it: a list or map parsed (its `objectValue`), any
   * other value as the string the program receives.
   */
  readonly values: Record<string, unknown>;
}

/** The project a stack file belongs to: its name and the values Pulumi.yaml declares. */
export interface ProjectFile {
  readonly name: string;
  /** By qualified key: the `default` (or `value`) Pulumi.yaml declares, as the CLI adds it. */
  readonly defaults: ReadonlyMap<string, ConfigValue>;
}

/** One configuration value as the program receives it. */
export interface ConfigValue {
  readonly text: string;
  readonly secret: boolean;
  /** A list or map (or, from Pulumi.yaml, any value that is not text, a whole number or a boolean). */
  readonly object: boolean;
  /** What `pulumi config --json` shows: the parsed JSON of an object, else the text. */
  readonly view: unknown;
}

/**
 * A stack file or project file the CLI would refuse (or that cannot be read offline): a mistake
 * in the file itself, before any setting is read. Its message is `<file>: <reason>`.
 */
export class StackFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = "StackFileError";
  }
}

/** The placeholder rendered for an encrypted value. */
export const securePlaceholder = (key: string) => `<secure ${key}>`;

/** The project without a Pulumi.yaml: this project's name, nothing declared. */
const bareProject: ProjectFile = { name: projectName, defaults: new Map() };

/**
 * Reads a stack file. `project`: the project's Pulumi.yaml (its path, or read already); default:
 * the nearest Pulumi.yaml at or above the stack file's folder, as the CLI finds the project from
 * the folder it runs in; when there is none, this project's name and no defaults.
 */
export function readStackFile(file: string, options: { project?: string | ProjectFile } = {}): StackFile {
  const projectFile = options.project ?? findProjectFile(dirname(resolve(file)));
  const project = typeof projectFile === "string" ? readProjectFile(projectFile) : (projectFile ?? bareProject);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new StackFileError(file, (error as Error).message);
  }
  return parseStackFile(text, project, file);
}

/** The nearest Pulumi.yaml (or Pulumi.yml) at or above `dir`. */
export function findProjectFile(dir: string): string | undefined {
  for (let at = resolve(dir); ; at = dirname(at)) {
    const found = ["Pulumi.yaml", "Pulumi.yml"].map((name) => join(at, name)).find((f) => existsSync(f));
    if (found || dirname(at) === at) return found;
  }
}

/** Reads a project file (Pulumi.yaml): its name and the values its `config:` block declares. */
export function readProjectFile(file: string): ProjectFile {
  try {
    return parseProjectFile(readFileSync(file, "utf8"));
  } catch (error) {
    throw new StackFileError(file, (error as Error).message);
  }
}

/** A stack file's text, read as the CLI reads it for `project`. `source` names it in errors. */
export function parseStackFile(text: string, project: ProjectFile = bareProject, source = "stack file"): StackFile {
  let values: Map<string, ConfigValue>;
  try {
    values = stackValues(text, project.name);
  } catch (error) {
    throw new StackFileError(source, (error as Error).message);
  }
  for (const [key, value] of project.defaults) if (!values.has(key)) values.set(key, value);
  const keys = [...values.keys()].sort();
  return {
    config: Object.fromEntries(keys.map((k) => [k, values.get(k)!.text])),
    secretKeys: keys.filter((k) => values.get(k)!.secret),
    values: Object.fromEntries(keys.map((k) => [k, values.get(k)!.view])),
  };
}

// --- The stack file -------------------------------------------------------------------------

function stackValues(text: string, project: string): Map<string, ConfigValue> {
  const top = decodeFile(text);
  if (top === null) return new Map();
  const file = topLevel(top, "stack file");
  const environment = file.get("environment");
  if (environment !== undefined && environment !== null) {
    throw new Error(
      "imports an ESC environment (environment:), whose values only the CLI with a Pulumi Cloud session can open: set the values in the stack file to read it offline",
    );
  }
  const first = file.get("config");
  if (first === undefined || first === null) return new Map();
  if (!(first instanceof Map)) throw new Error(`config: expected a map of keys to values, not ${describe(first)}`);
  // A key without a namespace is the project's (stackConfigNamespacedWithProject), named so
  // before the second decode.
  const namespaced: GoMap = new Map();
  const written = new Map<string, string>();
  for (const [key, value] of first) {
    if (typeof key !== "string")
      throw new Error(
        `could not parse ${goSprint(secondPassKey(key))} as a configuration key (configuration keys should be of the form \`<namespace>:<name>\`)`,
      );
    const full = key.includes(":") ? key : `${project}:${key}`;
    const qualified = parseKey(full);
    const other = written.get(qualified);
    if (other !== undefined) {
      throw new Error(
        `config: ${other} and ${key} both set ${qualified}: the CLI keeps one of them at random (Go's map order); remove one`,
      );
    }
    written.set(qualified, key);
    namespaced.set(full, value);
  }
  const values = new Map<string, ConfigValue>();
  for (const [key, value] of secondPass(namespaced, "format") as GoMap) {
    const qualified = parseKey(key as string);
    values.set(qualified, stackValue(qualified, secureValues(value)));
  }
  return values;
}

/** The top of a stack or project file: a map of text keys (SimplifyMarshalledProject). */
function topLevel(top: GoValue, what: string): GoMap {
  if (!(top instanceof Map)) throw new Error(`expected the ${what} to be a map, not ${describe(top)}`);
  const key = [...top.keys()].find((k) => typeof k !== "string");
  if (key !== undefined) throw new Error(`expected only string keys, got ${describe(key)}`);
  // A quoted "<<" is written back as a merge key (secondPass): at the top it would merge into the
  // file's own fields, which the reader does not follow.
  if (top.has("<<")) throw new Error(`a quoted "<<" key at the top of the ${what} is not read offline`);
  return top;
}

/** config.ParseKey: `ns:name`, or the old `ns:config:name`. */
function parseKey(key: string): string {
  const parts = key.split(":");
  if (parts.length === 2) return key;
  if (parts.length === 3 && parts[1] === "config") return `${parts[0]}:${parts[2]}`;
  throw new Error(
    `could not parse ${key} as a configuration key (configuration keys should be of the form \`<namespace>:<name>\`)`,
  );
}

/** What a value of the stack file becomes: config.Value, then the text the program receives. */
function stackValue(key: string, value: GoValue): ConfigValue {
  const placeholder = securePlaceholder(key);
  if (value instanceof Ciphertext) return { text: placeholder, secret: true, object: false, view: placeholder };
  if (value instanceof Map || Array.isArray(value)) {
    const text = goJson(value, { placeholder, time: (t) => t.string() });
    return { text, secret: hasCiphertext(value), object: true, view: JSON.parse(text) as unknown };
  }
  const text = scalarText(value);
  return { text, secret: false, object: false, view: text };
}

/** A scalar's text: MarshalString (JSON of a boolean or number), a timestamp as unmarshalObject makes it. */
function scalarText(value: GoKey): string {
  if (value === null) return ""; // a null value decodes to the zero config.Value
  if (typeof value === "string") return value;
  if (value instanceof GoTime) return value.string();
  if (typeof value === "number") return goFloat(value);
  return String(value); // boolean, bigint
}

/** isSecureValue: a map of exactly one key, `secure`, whose value is text. */
function secureValues(value: GoValue): GoValue {
  if (Array.isArray(value)) return value.map(secureValues);
  if (!(value instanceof Map)) return value;
  const secure = value.get("secure");
  if (value.size === 1 && typeof secure === "string") return new Ciphertext(secure);
  return new Map([...value].map(([k, v]) => [k, secureValues(v)]));
}

class Ciphertext {
  constructor(readonly ciphertext: string) {}
}

const hasCiphertext = (value: GoValue): boolean =>
  value instanceof Ciphertext ||
  (Array.isArray(value) ? value.some(hasCiphertext) : value instanceof Map && [...value.values()].some(hasCiphertext));

// --- Pulumi.yaml ------------------------------------------------------------------------------

/** A project file's text: its name and declared values (LoadProjectBytes, then mergeConfig). */
export function parseProjectFile(text: string): ProjectFile {
  const top = topLevel(decodeFile(text), "project file");
  const name = top.get("name");
  if (typeof name !== "string" || name === "")
    throw new Error("project is missing a non-empty string 'name' attribute");
  const config = top.get("config");
  const defaults = new Map<string, ConfigValue>();
  // A string `config:` is the old stackConfigDir (RewriteConfigPathIntoStackConfigDir).
  if (config === undefined || config === null || typeof config === "string") return { name, defaults };
  if (!(config instanceof Map)) throw new Error(`config: expected a map of declarations, not ${describe(config)}`);
  // RewriteShorthandConfigValues: a primitive or a list is the project key's default, another
  // namespace's value. Then the second decode.
  const rewritten: GoMap = new Map();
  for (const [key, raw] of config) {
    if (typeof key !== "string") throw new Error(`config: expected only string keys, got ${describe(key)}`);
    const namespaced = !key.includes(":") || key.startsWith(`${name}:`);
    rewritten.set(
      key,
      isPrimitive(raw) || Array.isArray(raw) ? new Map([[namespaced ? "default" : "value", raw]]) : raw,
    );
  }
  for (const [entry, declared] of secondPass(rewritten, "refuse") as GoMap) {
    const key = entry as string;
    if (!(declared instanceof Map))
      throw new Error(
        `config.${key}: expected a declaration (a map with type, default, ...), not ${describe(declared)}`,
      );
    const value = declared.get("value") ?? null;
    const fallback = declared.get("default") ?? null;
    if (value !== null && fallback !== null)
      throw new Error(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
    const given = fallback ?? value;
    if (given === null) continue;
    // Set(key, value, path = true) treats the name as a property path: only plain names here.
    if (/[.[\]"]/.test(key.slice(key.indexOf(":") + 1)))
      throw new Error(`config.${key}: a declared key that is a property path is not read offline`);
    defaults.set(key.includes(":") ? parseKey(key) : `${name}:${key}`, projectValue(given));
  }
  return { name, defaults };
}

/** isPrimitiveValue: a Go string, int or bool (a whole number beyond 64 bits is a uint64 or float). */
const isPrimitive = (value: GoValue): value is string | boolean | bigint =>
  typeof value === "string" || typeof value === "boolean" || (typeof value === "bigint" && inInt64(value));

/** createConfigValue: a primitive as its text (fmt %v), anything else as JSON, an object value. */
function projectValue(value: GoValue): ConfigValue {
  if (isPrimitive(value)) return { text: String(value), secret: false, object: false, view: String(value) };
  // The program reads the object value's JSON back and writes it again (Plaintext.marshalText):
  // text stays itself (a timestamp, which encoding/json wrote as RFC 3339), the rest is JSON.
  if (value instanceof GoTime) return { text: value.rfc3339(), secret: false, object: true, view: value.rfc3339() };
  const text = goJson(value, { placeholder: "", time: (t) => t.rfc3339() });
  return { text, secret: false, object: true, view: JSON.parse(text) as unknown };
}

// --- YAML as gopkg.in/yaml.v3 decodes it into `any` -------------------------------------------

/**
 * A decoded value: Go's nil, bool, int64/uint64 (bigint), float64, string, time.Time, []any and
 * maps. After the first decode a map may have keys that are not text (map[any]any); after the
 * second every key is text.
 */
type GoValue = GoKey | Ciphertext | GoValue[] | GoMap;
type GoKey = null | boolean | bigint | number | string | GoTime;
type GoMap = Map<GoKey, GoValue>;

/** What yaml.v3 hands LoadProjectStackBytes for a file: null for an empty file. */
function decodeFile(text: string): GoValue {
  const document = parseDocument(text.replace(/^\uFEFF/, ""), {
    // Every scalar as its text and every tag as written: yaml.v3's own rules resolve them below.
    schema: "failsafe",
    resolveKnownTags: false,
    merge: false,
    uniqueKeys: true,
    prettyErrors: false,
  });
  if (document.errors.length > 0) throw new Error(`invalid YAML file: ${document.errors[0].message.split("\n")[0]}`);
  return document.contents === null ? null : decode(document.contents, document, new Set());
}

const yamlTag = (tag: string | undefined) =>
  tag?.startsWith("tag:yaml.org,2002:") ? `!!${tag.slice("tag:yaml.org,2002:".length)}` : tag;

function decode(node: unknown, document: Document, decoding: Set<unknown>): GoValue {
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    const target = node.resolve(document);
    if (decoding.has(target)) throw new Error(`anchor '${node.source}' value contains itself`);
    return decode(target, document, decoding);
  }
  if (isScalar(node)) {
    const text = nodeText(node.value);
    const tag = yamlTag(node.tag);
    const quoted = node.type !== undefined && node.type !== "PLAIN";
    // indicatedString: quoted or block scalars (untagged or `!`), and `!!str`.
    if (tag === "!!str" || ((tag === undefined || tag === "!") && quoted)) return text;
    if (tag === "!!binary") return Buffer.from(text, "base64").toString("utf8");
    return resolveScalar(tag === "!" ? undefined : tag, text);
  }
  decoding.add(node);
  try {
    if (isSeq(node)) return node.items.map((item) => decode(item, document, decoding));
    if (isMap(node)) return decodeMap(node, document, decoding);
  } finally {
    decoding.delete(node);
  }
  throw new Error(`unexpected YAML node of type ${typeof node}`);
}

/** A scalar's text: every scalar is text under the failsafe schema. */
const nodeText = (value: unknown) => (typeof value === "string" ? value : "");

/** A plain `<<` key (or one tagged `!!merge`): isMerge. */
function isMergeKey(key: unknown): boolean {
  if (!isScalar(key) || key.value !== "<<") return false;
  const tag = yamlTag(key.tag);
  return tag === "!!merge" || ((tag === undefined || tag === "!") && (key.type === undefined || key.type === "PLAIN"));
}

interface YamlMapNode {
  items: { key: unknown; value: unknown }[];
}

/**
 * A mapping: map[string]any when every key of its own is text (isStringMap), else map[any]any.
 * Then each merged map's keys that are not set yet (decoder.merge), in order: into a string map
 * as written (their text), into the other as decoded.
 */
function decodeMap(node: YamlMapNode, document: Document, decoding: Set<unknown>): GoMap {
  const own = node.items.filter((pair) => !isMergeKey(pair.key));
  const keys = own.map((pair) => decodeKey(pair.key, document, decoding));
  const into: GoMap = new Map();
  own.forEach((pair, i) => into.set(keys[i], decode(pair.value, document, decoding)));
  mergeInto(
    into,
    node,
    keys.some((k) => typeof k !== "string"),
    document,
    decoding,
  );
  return into;
}

function decodeKey(key: unknown, document: Document, decoding: Set<unknown>): GoKey {
  const value = decode(key, document, decoding);
  if (value instanceof Map || Array.isArray(value) || value instanceof Ciphertext)
    throw new Error("invalid map key: a map or list");
  return value;
}

/** The merge key of `node`, if any: its maps' keys join `into` where not set yet. */
function mergeInto(into: GoMap, node: YamlMapNode, general: boolean, document: Document, decoding: Set<unknown>): void {
  const merge = node.items.find((pair) => isMergeKey(pair.key))?.value;
  if (merge === undefined) return;
  const target = isAlias(merge) ? merge.resolve(document) : merge;
  const sources =
    isSeq(target) && !isAlias(merge)
      ? target.items.map((item) => (isAlias(item) ? item.resolve(document) : item))
      : [target];
  for (const source of sources) {
    if (!isMap(source)) throw new Error("map merge requires map or sequence of maps as the value");
    if (decoding.has(source)) throw new Error("a merged map contains itself");
    decoding.add(source);
    try {
      for (const pair of source.items) {
        if (isMergeKey(pair.key)) continue;
        if (!general && !isScalar(pair.key)) throw new Error("invalid map key: a map or list");
        const key = general
          ? decodeKey(pair.key, document, decoding)
          : nodeText((pair.key as { value: unknown }).value);
        if (!into.has(key)) into.set(key, decode(pair.value, document, decoding));
      }
      mergeInto(into, source, general, document, decoding);
    } finally {
      decoding.delete(source);
    }
  }
}

// yaml.v3's resolve.go: the prefix hints what a plain scalar may be.
const resolveMap: Record<string, GoKey> = {
  true: true,
  True: true,
  TRUE: true,
  false: false,
  False: false,
  FALSE: false,
  "": null,
  "~": null,
  null: null,
  Null: null,
  NULL: null,
  ".nan": NaN,
  ".NaN": NaN,
  ".NAN": NaN,
  ".inf": Infinity,
  ".Inf": Infinity,
  ".INF": Infinity,
  "+.inf": Infinity,
  "+.Inf": Infinity,
  "+.INF": Infinity,
  "-.inf": -Infinity,
  "-.Inf": -Infinity,
  "-.INF": -Infinity,
};
const yamlStyleFloat = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

type Resolved = { tag: "!!null" | "!!bool" | "!!int" | "!!float" | "!!str" | "!!timestamp"; value: GoKey };

function resolvePlain(text: string, timestamps: boolean): Resolved {
  if (Object.hasOwn(resolveMap, text)) {
    const value = resolveMap[text]!;
    return { tag: value === null ? "!!null" : typeof value === "boolean" ? "!!bool" : "!!float", value };
  }
  const first = text[0] ?? "";
  if (first === ".") {
    // ParseFloat of the text as written.
    if (/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text) && Number.isFinite(Number(text)))
      return { tag: "!!float", value: Number(text) };
  } else if (/[-+0-9]/.test(first)) {
    if (timestamps) {
      const time = GoTime.parse(text);
      if (time) return { tag: "!!timestamp", value: time };
    }
    const plain = text.replaceAll("_", "");
    const int = goParseInt(plain);
    if (int !== undefined) return { tag: "!!int", value: int };
    const uint = goParseUint(plain);
    if (uint !== undefined) return { tag: "!!int", value: uint };
    // ParseFloat refuses a value beyond float64 (then the scalar is text); it rounds a tiny one to 0.
    if (yamlStyleFloat.test(plain) && Number.isFinite(Number(plain))) return { tag: "!!float", value: Number(plain) };
  }
  return { tag: "!!str", value: text };
}

/** resolve(tag, in): a plain scalar, or one with an explicit tag the value must satisfy. */
function resolveScalar(tag: string | undefined, text: string): GoKey {
  const known = ["!!str", "!!bool", "!!int", "!!float", "!!null", "!!timestamp"];
  if (tag !== undefined && !known.includes(tag)) return text; // a tag yaml.v3 does not resolve: the text
  const resolved = resolvePlain(text, tag === undefined || tag === "!!timestamp");
  if (tag === undefined || tag === resolved.tag) return resolved.value;
  if (tag === "!!float" && resolved.tag === "!!int") return Number(resolved.value);
  throw new Error(`cannot decode ${resolved.tag} \`${text}\` as a ${tag}`);
}

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;
const uint64Max = 2n ** 64n - 1n;
const inInt64 = (n: bigint) => n >= int64Min && n <= int64Max;

/** strconv.ParseUint(s, 0, 64): 0b, 0o, 0x and leading-0 octal prefixes. */
function goParseUint(s: string): bigint | undefined {
  if (s === "") return undefined;
  let base = 10;
  let digits = s;
  if (s[0] === "0") {
    const prefix = s.length >= 3 ? s[1].toLowerCase() : "";
    base = prefix === "b" ? 2 : prefix === "x" ? 16 : 8;
    digits = prefix === "b" || prefix === "o" || prefix === "x" ? s.slice(2) : s.slice(1);
  }
  const valid = { 2: /^[01]*$/, 8: /^[0-7]*$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]*$/ }[base]!;
  if (!valid.test(digits)) return undefined;
  let n = 0n;
  for (const d of digits) n = n * BigInt(base) + BigInt(parseInt(d, 16));
  return n <= uint64Max ? n : undefined;
}

/** strconv.ParseInt(s, 0, 64). */
function goParseInt(s: string): bigint | undefined {
  const negative = s.startsWith("-");
  const magnitude = goParseUint(s.startsWith("+") || negative ? s.slice(1) : s);
  if (magnitude === undefined) return undefined;
  const n = negative ? -magnitude : magnitude;
  return inInt64(n) ? n : undefined;
}

/**
 * The second decode: LoadProjectStackBytes (and LoadProjectBytes) encode the decoded file with
 * yaml.v3 and decode it again. A float written without a point or exponent (%g: whole and below
 * 1e6) comes back an int; a text key "<<" is written plain and so comes back a merge key (its
 * value must be a map or a list of maps, merged as above); a key that is not text is written as
 * its value and read back as one, which config.Value names with fmt's %v ("refuse": Pulumi.yaml,
 * where encoding/json cannot write such a map).
 */
function secondPass(value: GoValue, keys: "format" | "refuse"): GoValue {
  if (typeof value === "number") return secondPassKey(value);
  if (Array.isArray(value)) return value.map((v) => secondPass(v, keys));
  if (!(value instanceof Map)) return value;
  const out: GoMap = new Map();
  let merge: GoValue | undefined;
  for (const [k, v] of value) {
    if (k === "<<") {
      merge = secondPass(v, keys);
      continue;
    }
    if (typeof k !== "string" && keys === "refuse")
      throw new Error("json: unsupported type: map[interface {}]interface {}");
    const key = typeof k === "string" ? k : goSprint(secondPassKey(k));
    if (out.has(key)) throw new Error(`mapping key "${key}" already defined (once the CLI writes the file back)`);
    out.set(key, secondPass(v, keys));
  }
  if (merge !== undefined) {
    for (const source of Array.isArray(merge) ? merge : [merge]) {
      if (!(source instanceof Map)) throw new Error("map merge requires map or sequence of maps as the value");
      for (const [k, v] of source) if (!out.has(k)) out.set(k, v);
    }
  }
  return out;
}

/** A scalar after the second decode. */
function secondPassKey(value: GoKey): GoKey {
  if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) < 1e6) return BigInt(value);
  return value;
}

// --- Go's formats -----------------------------------------------------------------------------

/** fmt's %v of a map key: text as is, a float as %g, nil as <nil>, a timestamp as time.String(). */
function goSprint(value: GoKey): string {
  if (value === null) return "<nil>";
  if (value instanceof GoTime) return value.string();
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const [mantissa, exponent] = value.toExponential().split("e") as [string, string];
  const e = Number(exponent);
  // %g with the shortest digits: an exponent below -4 or from 6 on, written with at least 2 digits.
  if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  return String(value);
}

/** encoding/json's float64 (and Go's %v of one): shortest digits, exponent below 1e-6 and from 1e21. */
function goFloat(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`json: unsupported value: ${n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN"}`);
  return String(n); // JavaScript's Number::toString switches to an exponent at the same bounds
}

/** encoding/json.Marshal's string: HTML-safe (`<`, `>`, `&`, U+2028, U+2029 escaped). */
function goJsonString(s: string): string {
  const short: Record<string, string> = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
  };
  let out = '"';
  for (const c of s) {
    const code = c.codePointAt(0)!;
    if (short[c]) out += short[c];
    else if (code < 0x20 || c === "<" || c === ">" || c === "&" || code === 0x2028 || code === 0x2029)
      out += `\\u${code.toString(16).padStart(4, "0")}`;
    else if (code >= 0xd800 && code <= 0xdfff)
      out += "\\ufffd"; // a lone surrogate: invalid UTF-8 to Go
    else out += c;
  }
  return `${out}"`;
}

/** Go sorts map keys by their bytes. */
const compareBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * A list or map as the program receives it: the config.Value's JSON read back with UseNumber (a
 * whole number beyond int64 becomes a float64) and written by encoding/json (Plaintext.marshalText).
 */
function goJson(value: GoValue, how: { placeholder: string; time: (t: GoTime) => string }): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return inInt64(value) ? String(value) : goFloat(Number(value));
  if (typeof value === "number") return goFloat(value);
  if (typeof value === "string") return goJsonString(value);
  if (value instanceof GoTime) return goJsonString(how.time(value));
  if (value instanceof Ciphertext) return goJsonString(how.placeholder);
  if (Array.isArray(value)) return `[${value.map((v) => goJson(v, how)).join(",")}]`;
  // After the second decode every key is text.
  const entries = [...value].map(([k, v]) => [k as string, v] as const).sort(([a], [b]) => compareBytes(a, b));
  return `{${entries.map(([k, v]) => `${goJsonString(k)}:${goJson(v, how)}`).join(",")}}`;
}

function describe(value: GoValue | undefined): string {
  if (value === undefined || value === null) return "null";
  if (value instanceof GoTime) return `the timestamp ${value.rfc3339()}`;
  if (value instanceof Map) return "a map";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Ciphertext) return "a secure value";
  return `${typeof value === "bigint" ? "the number" : `the ${typeof value}`} '${String(value)}'`;
}

/**
 * A timestamp as yaml.v3 parses it (parseTimestamp's layouts, time.Parse's ranges) and as Go's
 * time.Time prints it. `offset`: seconds east of UTC, undefined for UTC (an offset of 0 becomes
 * UTC once written as RFC 3339 and read again).
 */
class GoTime {
  private constructor(
    private readonly date: [year: number, month: number, day: number, hour: number, minute: number, second: number],
    private readonly nanos: number,
    private readonly offset: number | undefined,
  ) {}

  static parse(text: string): GoTime | undefined {
    // "2006-1-2T15:4:5.999999999Z07:00" (also with t), "2006-1-2 15:4:5.999999999", "2006-1-2".
    const m =
      /^(\d{4})-(\d{1,2})-(\d{1,2})(?:([Tt ])(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})?)?$/.exec(
        text,
      );
    if (!m) return undefined;
    const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[5] ?? "0", m[6] ?? "0", m[7] ?? "0"].map(
      Number,
    ) as [number, number, number, number, number, number];
    const zone = m[9];
    if (m[4] !== undefined && (m[4] === " ") !== (zone === undefined)) return undefined;
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
      return undefined;
    let offset: number | undefined;
    if (zone !== undefined && zone !== "Z") {
      const [hours, minutes] = [Number(zone.slice(1, 3)), Number(zone.slice(4, 6))];
      if (hours > 24 || minutes > 60) return undefined;
      offset = (zone[0] === "-" ? -1 : 1) * (hours * 60 + minutes) * 60;
      if (offset === 0) offset = undefined;
    }
    const nanos = Number((m[8] ?? "").slice(0, 9).padEnd(9, "0"));
    return new GoTime([year, month, day, hour, minute, second], nanos, offset);
  }

  private parts(separator: string): string {
    const [year, month, day, hour, minute, second] = this.date;
    const two = (n: number) => String(n).padStart(2, "0");
    const fraction = this.nanos === 0 ? "" : `.${String(this.nanos).padStart(9, "0").replace(/0+$/, "")}`;
    return `${String(year).padStart(4, "0")}-${two(month)}-${two(day)}${separator}${two(hour)}:${two(minute)}:${two(second)}${fraction}`;
  }

  private zone(colon: boolean): string {
    const minutes = Math.abs(this.offset ?? 0) / 60;
    const two = (n: number) => String(n).padStart(2, "0");
    return `${(this.offset ?? 0) < 0 ? "-" : "+"}${two(Math.floor(minutes / 60))}${colon ? ":" : ""}${two(minutes % 60)}`;
  }

  /** time.Time.String(): `2006-01-02 15:04:05.999999999 -0700 MST` (a fixed zone has no name: its offset). */
  string(): string {
    return `${this.parts(" ")} ${this.offset === undefined ? "+0000 UTC" : `${this.zone(false)} ${this.zone(false)}`}`;
  }

  /** time.RFC3339Nano, as encoding/json writes a time.Time. */
  rfc3339(): string {
    return `${this.parts("T")}${this.offset === undefined ? "Z" : this.zone(true)}`;
  }
}

/** Days in a month of the proleptic Gregorian calendar, as time.Parse checks the day. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
