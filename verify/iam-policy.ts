// Evaluates an IAM policy document against one request, as AWS's documented policy logic does,
// for the elements and condition operators this project's policies use (AWS IAM docs, "IAM JSON
// policy elements: Condition operators"). It is in-project because the npm simulator
// @cloud-copilot/iam-simulate is AGPL-3.0 and its runSimulation() drops the
// token.actions.githubusercontent.com keys for sts:AssumeRoleWithWebIdentity. Anything outside
// the supported subset (another operator, NotPrincipal, policy variables) throws rather than
// being guessed at.

/** A context key's value: one string, or a set of strings (multivalued key). */
type ContextValue = string | readonly string[];

export interface IamRequest {
  /** `service:Action`, e.g. sts:AssumeRoleWithWebIdentity. */
  readonly action: string;
  /** The calling principal, by kind. A trust policy's web-identity caller is `federated`. */
  readonly principal?: { readonly federated?: string; readonly aws?: string; readonly service?: string };
  /** Resource ARN; required when a statement has Resource or NotResource. */
  readonly resource?: string;
  /** Request context; a key that is absent (or undefined) is missing. */
  readonly context?: Readonly<Record<string, ContextValue | undefined>>;
}

/** AWS's three outcomes: an explicit Deny beats any Allow; no matching Allow is an implicit deny. */
export type Decision = "allow" | "implicitDeny" | "explicitDeny";

type Json = Record<string, unknown>;

const statementElements = new Set([
  "Sid",
  "Effect",
  "Principal",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
]);
const principalKinds: Record<string, keyof NonNullable<IamRequest["principal"]>> = {
  AWS: "aws",
  Federated: "federated",
  Service: "service",
};

/** Decides `request` against one policy document (a JSON string or its parsed object). */
export function evaluatePolicy(policy: unknown, request: IamRequest): Decision {
  const document = (typeof policy === "string" ? JSON.parse(policy) : policy) as Json;
  if (document === null || typeof document !== "object" || !("Statement" in document))
    throw new Error("not a policy document: no Statement");
  const statements = (Array.isArray(document.Statement) ? document.Statement : [document.Statement]) as Json[];
  let allowed = false;
  for (const statement of statements) {
    if (!statementApplies(statement, request)) continue;
    if (statement.Effect === "Deny") return "explicitDeny";
    allowed = true;
  }
  return allowed ? "allow" : "implicitDeny";
}

function statementApplies(statement: Json, request: IamRequest): boolean {
  for (const key of Object.keys(statement)) {
    if (!statementElements.has(key)) throw new Error(`unsupported policy element ${key}`);
  }
  if (statement.Effect !== "Allow" && statement.Effect !== "Deny")
    throw new Error(`Effect must be Allow or Deny, not ${String(statement.Effect)}`);
  if (!principalMatches(statement.Principal, request)) return false;
  if ((statement.Action === undefined) === (statement.NotAction === undefined))
    throw new Error("a statement needs exactly one of Action and NotAction");
  // Action names are case-insensitive.
  const action =
    statement.Action !== undefined
      ? strings(statement.Action).some((p) => wildcardMatch(p, request.action, true))
      : !strings(statement.NotAction).some((p) => wildcardMatch(p, request.action, true));
  if (!action) return false;
  if (statement.Resource !== undefined || statement.NotResource !== undefined) {
    if (request.resource === undefined) throw new Error("the statement names resources but the request has none");
    const resource = request.resource;
    const listed = strings(statement.Resource ?? statement.NotResource).some((p) => wildcardMatch(p, resource, false));
    if (listed !== (statement.Resource !== undefined)) return false;
  }
  return conditionsHold((statement.Condition ?? {}) as Json, request.context ?? {});
}

function principalMatches(principal: unknown, request: IamRequest): boolean {
  if (principal === undefined || principal === "*") return true; // no Principal: an identity policy
  if (principal === null || typeof principal !== "object")
    throw new Error(`unsupported Principal ${JSON.stringify(principal)}`);
  return Object.entries(principal as Json).some(([kind, values]) => {
    const field = principalKinds[kind];
    if (!field) throw new Error(`unsupported principal kind ${kind}`);
    const caller = request.principal?.[field];
    return caller !== undefined && strings(values).some((v) => v === "*" || v === caller);
  });
}

/** Every operator holds (AND), and within one operator every key holds (AND). */
function conditionsHold(condition: Json, context: Readonly<Record<string, ContextValue | undefined>>): boolean {
  // Condition key names are case-insensitive; their values are not (unless the operator says so).
  const lookup = new Map<string, readonly string[]>();
  for (const [key, value] of Object.entries(context)) {
    if (value !== undefined) lookup.set(key.toLowerCase(), typeof value === "string" ? [value] : value);
  }
  return Object.entries(condition).every(([operator, keys]) => {
    if (keys === null || typeof keys !== "object") throw new Error(`condition ${operator} must map keys to values`);
    return Object.entries(keys as Json).every(([key, values]) =>
      conditionHolds(operator, strings(values), lookup.get(key.toLowerCase())),
    );
  });
}

interface Operator {
  readonly set?: "ForAnyValue" | "ForAllValues";
  readonly base: string;
  readonly ifExists: boolean;
}

const stringOperators: Record<string, { negated: boolean; compare: (policy: string, value: string) => boolean }> = {
  StringEquals: { negated: false, compare: (p, v) => p === v },
  StringNotEquals: { negated: true, compare: (p, v) => p === v },
  StringEqualsIgnoreCase: { negated: false, compare: (p, v) => p.toLowerCase() === v.toLowerCase() },
  StringNotEqualsIgnoreCase: { negated: true, compare: (p, v) => p.toLowerCase() === v.toLowerCase() },
  StringLike: { negated: false, compare: (p, v) => wildcardMatch(p, v, false) },
  StringNotLike: { negated: true, compare: (p, v) => wildcardMatch(p, v, false) },
};

/** Splits `ForAllValues:StringLikeIfExists` into its qualifier, operator and IfExists. */
function parseOperator(operator: string): Operator {
  const match = /^(?:(ForAnyValue|ForAllValues):)?(.+?)(IfExists)?$/.exec(operator);
  const base = match?.[2];
  if (!match || base === undefined || (base !== "Null" && !(base in stringOperators)))
    throw new Error(`unsupported condition operator ${operator}`);
  if (base === "Null" && (match[1] !== undefined || match[3] !== undefined))
    throw new Error(`unsupported condition operator ${operator}`);
  return { ...(match[1] ? { set: match[1] as Operator["set"] } : {}), base, ifExists: match[3] !== undefined };
}

/**
 * One key under one operator. `present` is the request's values for the key (undefined: missing).
 * Policy values are ORed for positive operators; a negated operator holds when no value matches.
 */
export function conditionHolds(
  operator: string,
  policyValues: readonly string[],
  present: readonly string[] | undefined,
): boolean {
  const op = parseOperator(operator);
  for (const v of policyValues) if (v.includes("${")) throw new Error(`policy variables are not supported: ${v}`);
  const missing = present === undefined || present.length === 0;
  if (op.base === "Null") {
    // Null: "true" holds when the key is missing, "false" when it is present.
    return policyValues.some((v) =>
      v === "true" ? missing : v === "false" ? !missing : fail(`Null takes true or false, not ${v}`),
    );
  }
  const { negated, compare } = stringOperators[op.base];
  const holdsFor = (value: string) => policyValues.some((p) => compare(p, value)) !== negated;
  if (missing) {
    // IfExists: a missing key satisfies the condition. ForAllValues: true for a missing key or an
    // empty set (vacuously). ForAnyValue: false. Plain operators: a missing key does not match,
    // so a positive operator is false and a negated one true.
    if (op.ifExists || op.set === "ForAllValues") return true;
    if (op.set === "ForAnyValue") return false;
    return negated;
  }
  if (op.set === "ForAllValues") return present.every(holdsFor);
  if (op.set === "ForAnyValue") return present.some(holdsFor);
  if (present.length > 1)
    throw new Error(
      `${operator} without ForAnyValue/ForAllValues on a key with ${present.length} values: AWS requires a set operator for multivalued keys`,
    );
  return holdsFor(present[0]);
}

/** IAM wildcard matching: `*` any run of characters (also none), `?` exactly one character. */
export function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) =>
    c === "*" ? "[\\s\\S]*" : c === "?" ? "[\\s\\S]" : `\\${c}`,
  );
  return new RegExp(`^${source}$`, ignoreCase ? "i" : "").test(value);
}

function strings(value: unknown): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  return list.map((v) => {
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    throw new Error(`expected a string or a list of strings, got ${JSON.stringify(value)}`);
  });
}

function fail(message: string): never {
  throw new Error(message);
}
