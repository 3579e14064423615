// Runs a Pulumi program under the SDK's mock monitor and records every registration as the
// engine would receive it: type, name, parent, dependencies and inputs (secrets still marked).
// Values that providers compute (ids, ARNs, tokens) and the data sources the program invokes are
// mocked here; an invoke this module does not know throws, so a new lookup fails loudly.
// The library owns it: the offline render (synth/mock-engine.ts re-exports it) and the tests run
// on it, and testing/index.ts (`canary-pipeline/testing`) is its public part. It imports
// `@pulumi/pulumi` by name, so installed it loads the program's own SDK (the peer dependency).
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument --
   provider inputs and the SDK's wire objects are untyped by nature. */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor, type MockCallArgs, type MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";
import * as rpc from "@pulumi/pulumi/runtime/rpc";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createUrn } from "./urn";

/**
 * An alias as the SDK sends it: a URN the resource had, or the parts of one that differ (the engine
 * fills in the rest from the resource itself: verify/state-continuity.ts).
 */
export type RegisteredAlias =
  | { readonly urn: string }
  | {
      readonly name?: string;
      readonly type?: string;
      readonly stack?: string;
      readonly project?: string;
      readonly parentUrn?: string;
      readonly noParent?: boolean;
    };

/** A resource as the engine received it. */
export interface RegisteredResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  /** URNs this resource waits for: from its inputs and from dependsOn. */
  readonly dependencies: string[];
  /**
   * The dependencies no input carries: order imposed by dependsOn alone (bench/graph.ts measures
   * how much they lengthen the longest chain). Absent when there are none.
   */
  readonly orderOnly?: string[];
  /** Its aliases, when it has any. */
  readonly aliases?: RegisteredAlias[];
  /** The URN of the provider resource it is registered with, when one is given explicitly. */
  readonly provider?: string;
  /** Inputs as sent; secret values are wrapped as `{ [secretMarker]: value }`. */
  readonly inputs: Record<string, unknown>;
  readonly custom: boolean;
  /** A read of an existing object (`Resource.get`), as the engine's checkpoint marks it; never created. */
  readonly external?: true;
  /** With external: the id it reads. */
  readonly id?: string;
}

/** Wraps a secret value inside recorded inputs. */
export const secretMarker = "__secret__";

/** The fake account, region and ids the mocks answer with. */
export const mockAccount = { accountId: "123456789012", partition: "aws", region: "eu-west-1" } as const;

/** The token the mock cluster issues to a ServiceAccount. */
export const mockServiceAccountToken = "mock-service-account-token";

/**
 * The deploying machine's kubeconfig, stood in for: a program runs here with a home directory of
 * its own holding only this as `.kube/config` (and without KUBECONFIG), so that a render never
 * reads the machine's credentials. A token-mode stack checks that its context is there.
 */
export const standInKubeconfig = {
  apiVersion: "v1",
  kind: "Config",
  "current-context": "stand-in",
  contexts: [{ name: "stand-in", context: { cluster: "stand-in", user: "stand-in-deployer" } }],
  clusters: [{ name: "stand-in", cluster: { server: "https://kubernetes.stand-in.invalid" } }],
  users: [{ name: "stand-in-deployer", user: { token: "stand-in-deployer-token" } }],
} as const;

/** A stable fake numeric id for a name (GitHub user and team ids). */
export const mockNumericId = (name: string) =>
  Number.parseInt(createHash("sha256").update(name).digest("hex").slice(0, 8), 16) % 100_000_000;

type Inputs = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const arn = (service: string, resource: string, region = "") =>
  `arn:${mockAccount.partition}:${service}:${region}:${mockAccount.accountId}:${resource}`;

/** Provider-computed state per resource type, merged over the inputs. */
const computedState: Record<string, (name: string, inputs: Inputs) => Inputs> = {
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (_n, i) => ({
    arn: arn("iam", `oidc-provider/${String(i.url).replace(/^https:\/\//, "")}`),
  }),
  "aws:iam/role:Role": (n, i) => ({
    arn: arn("iam", `role${i.path ?? "/"}${i.name ?? n}`),
    name: i.name ?? n,
    uniqueId: `AROA${mockNumericId(n)}`,
  }),
  "aws:iam/policy:Policy": (n, i) => ({ arn: arn("iam", `policy${i.path ?? "/"}${i.name ?? n}`), name: i.name ?? n }),
  "aws:eks/accessEntry:AccessEntry": (n, i) => ({
    accessEntryArn: arn("eks", `access-entry/${i.clusterName}/role/${mockAccount.accountId}/${n}`, mockAccount.region),
  }),
  // The token controller fills a ServiceAccount token Secret; the mock answers with a fake one.
  "kubernetes:core/v1:Secret": (_n, i) =>
    i.type === "kubernetes.io/service-account-token"
      ? { data: { ...(i.data ?? {}), token: Buffer.from(mockServiceAccountToken).toString("base64") } }
      : {},
};

/** Data sources the program may invoke, and their mocked answers. */
const invokes: Record<string, (inputs: Inputs) => Inputs> = {
  "github:index/getUser:getUser": (i) => ({
    id: String(mockNumericId(`user:${i.username}`)),
    login: i.username,
    username: i.username,
  }),
  "github:index/getTeam:getTeam": (i) => ({ id: String(mockNumericId(`team:${i.slug}`)), slug: i.slug, name: i.slug }),
  "aws:eks/getCluster:getCluster": (i) => ({
    id: i.name,
    name: i.name,
    arn: arn("eks", `cluster/${i.name}`, mockAccount.region),
    endpoint: `https://${mockNumericId(`cluster:${i.name}`)}.gr7.${mockAccount.region}.eks.amazonaws.com`,
    certificateAuthorities: [
      { data: Buffer.from(`-----BEGIN CERTIFICATE-----\n${i.name}\n-----END CERTIFICATE-----\n`).toString("base64") },
    ],
  }),
};

/** Kubernetes names its objects from metadata.name; a mock must not invent random suffixes. */
function kubernetesState(type: string, name: string, inputs: Inputs): Inputs {
  if (!type.startsWith("kubernetes:") || !inputs.metadata) return {};
  return { metadata: { ...inputs.metadata, name: inputs.metadata.name ?? name } };
}

/**
 * The mocks: provider-computed state over each resource's inputs, and the invokes' answers. An
 * invoke without an answer throws, naming it.
 */
export const mocks: pulumi.runtime.Mocks = {
  newResource(args: MockResourceArgs): { id: string; state: Inputs } {
    const inputs = args.inputs as Inputs;
    const state = {
      ...inputs,
      ...kubernetesState(args.type, args.name, inputs),
      ...(computedState[args.type]?.(args.name, inputs) ?? {}),
    };
    return { id: `${args.name}-id`, state };
  },
  call(args: MockCallArgs): Inputs {
    const answer = invokes[args.token];
    if (!answer) {
      const message = `the mock engine has no answer for invoke ${args.token}: it answers the invokes the components make (add one to canary-pipeline's testing/mock-engine.ts)`;
      // The SDK rethrows a failed invoke as `new Error(err.details)`, a gRPC error's field: carry the message there too.
      throw Object.assign(new Error(message), { details: message });
    }
    return answer(args.inputs as Inputs);
  },
};

// Keeps the secret markers the wire format carries, as `{ [secretMarker]: value }`.
function markSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(markSecrets);
  if (value === null || typeof value !== "object") return value;
  const object = value as Record<string, unknown>;
  const signature = object[rpc.specialSigKey];
  if (signature === rpc.specialSecretSig) return { [secretMarker]: markSecrets(object.value) };
  if (signature === rpc.specialResourceSig) return { resource: object.urn };
  return Object.fromEntries(
    Object.entries(object)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, markSecrets(v)]),
  );
}

/** The URN the engine gives a resource of this stack (the SDK's mock names children otherwise). */
const engineUrn = (parent: string, type: string, name: string) =>
  createUrn(name, type, parent, pulumi.getProject(), pulumi.getStack());

interface AliasMessage {
  hasUrn(): boolean;
  getUrn(): string;
  getSpec(): {
    getName(): string;
    getType(): string;
    getStack(): string;
    getProject(): string;
    getParenturn(): string;
    getNoparent(): boolean;
  };
}

/** An alias off the wire, without its empty fields. */
function registeredAlias(message: AliasMessage): RegisteredAlias {
  if (message.hasUrn()) return { urn: message.getUrn() };
  const spec = message.getSpec();
  const fields = {
    name: spec.getName(),
    type: spec.getType(),
    stack: spec.getStack(),
    project: spec.getProject(),
    parentUrn: spec.getParenturn(),
  };
  return {
    ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== "")),
    ...(spec.getNoparent() ? { noParent: true } : {}),
  };
}

/** What the mock monitor reads of a ReadResourceRequest (the SDK's protobuf message). */
interface ReadRequest {
  getParent(): string;
  getType(): string;
  getName(): string;
  getProvider(): string;
  getDependenciesList(): string[];
  getProperties(): { toJavaScript(): unknown } | undefined;
  getId(): string;
}

/** The mock monitor, recording each registration and naming URNs as the engine does. */
class RecordingMonitor extends MockMonitor {
  constructor(
    m: pulumi.runtime.Mocks,
    readonly registrations: RegisteredResource[],
  ) {
    super(m);
    // The engine qualifies a child's type with its parent's whole qualified type; the SDK's mock
    // (a private method) keeps only the last segment, which would give URNs unlike a real stack's.
    Object.assign(this, { newUrn: engineUrn });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override async registerResource(req: any, callback: (err: any, response: any) => void): Promise<void> {
    /* eslint-disable @typescript-eslint/no-unsafe-call */
    const parent: string = req.getParent();
    const type: string = req.getType();
    const name: string = req.getName();
    const dependencies = [...new Set<string>(req.getDependenciesList())].sort();
    const carried = new Set<string>();
    req.getPropertydependenciesMap().forEach((entry: { getUrnsList(): string[] }) => {
      for (const urn of entry.getUrnsList()) carried.add(urn);
    });
    const orderOnly = dependencies.filter((urn) => !carried.has(urn));
    const aliases = (req.getAliasesList() as AliasMessage[]).map(registeredAlias);
    // A provider reference is `<urn>::<id>`.
    const provider = (req.getProvider() as string).replace(/::[^:]*$/, "");
    this.registrations.push({
      urn: engineUrn(parent, type, name),
      type,
      name,
      ...(parent ? { parent } : {}),
      dependencies,
      ...(orderOnly.length > 0 ? { orderOnly } : {}),
      ...(aliases.length > 0 ? { aliases } : {}),
      ...(provider ? { provider } : {}),
      inputs: markSecrets(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
      custom: req.getCustom(),
    });
    /* eslint-enable */
    return super.registerResource(req, callback);
  }

  /** A `.get` of the program: recorded as the engine's checkpoint records it, external with its id. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override async readResource(req: ReadRequest, callback: (err: any, response: any) => void): Promise<void> {
    const parent = req.getParent();
    const type = req.getType();
    const name = req.getName();
    const provider = req.getProvider().replace(/::[^:]*$/, "");
    const dependencies = [...new Set(req.getDependenciesList())].sort();
    this.registrations.push({
      urn: engineUrn(parent, type, name),
      type,
      name,
      ...(parent ? { parent } : {}),
      dependencies,
      ...(provider ? { provider } : {}),
      inputs: markSecrets(req.getProperties()?.toJavaScript() ?? {}) as Record<string, unknown>,
      custom: true,
      external: true,
      id: req.getId(),
    });
    return super.readResource(req, callback);
  }
}

export interface ProgramRun {
  readonly project: string;
  readonly stack: string;
  /** Settings by qualified key (`canary-pipeline:replicas`); values as the CLI passes them. */
  readonly config: Record<string, string>;
  /** Qualified keys whose values are secret. */
  readonly secretKeys: readonly string[];
  /** The program: what index.ts exports. */
  readonly program: () => unknown;
  /** Receives each registration as it happens, also when the program then fails. */
  readonly registrations?: RegisteredResource[];
  /**
   * Receives each unhandled rejection of the run, in order: an Output that fails rejects every
   * resource that reads it, each with the same error (the language host reports each error once).
   */
  readonly rejections?: unknown[];
  /** The home directory the program runs with (its `.kube/config` is the machine's kubeconfig). Default: one holding standInKubeconfig. */
  readonly home?: string;
}

export interface ProgramResult {
  readonly resources: RegisteredResource[];
  readonly outputs: Record<string, unknown>;
}

/**
 * Runs `program` as the root of a stack under mocks and returns what it registered, sorted by
 * URN. Runs one after another in a process are independent.
 */
export async function runProgram(run: ProgramRun): Promise<ProgramResult> {
  const monitor = new RecordingMonitor(mocks, run.registrations ?? []);
  await pulumi.runtime.setMocks(mocks, run.project, run.stack, false);
  settings.setMockOptions(monitor, run.project, run.stack, false);
  pulumi.runtime.setAllConfig(run.config, [...run.secretKeys]);
  let outputs: pulumi.Inputs | undefined;
  // A program that throws (a component refusing its Args) would reject the root Stack's init, and
  // each Output derived from it again, unhandled: keep the error and throw it once, after the run.
  let failure: { error: unknown } | undefined;
  // An Output whose apply throws (an Input checked once known) rejects unhandled, once per
  // resource that reads it: the language host fails the program on the first, so the run fails
  // here with it. During the run such rejections are the run's, not the caller's (a test runner's).
  const callerListeners = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", (error: unknown) => {
    run.rejections?.push(error);
    failure ??= { error };
  });
  // The machine's kubeconfig is stood in for (standInKubeconfig): a render reads no local credential.
  const machine = { HOME: process.env.HOME, KUBECONFIG: process.env.KUBECONFIG };
  const standInHome = run.home === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), "stand-in-home-")) : undefined;
  if (standInHome !== undefined) {
    fs.mkdirSync(path.join(standInHome, ".kube"));
    fs.writeFileSync(path.join(standInHome, ".kube", "config"), JSON.stringify(standInKubeconfig), { mode: 0o600 });
  }
  process.env.HOME = run.home ?? standInHome;
  delete process.env.KUBECONFIG;
  try {
    outputs = await pulumi.runtime.runInPulumiStack(async () => {
      try {
        return (await run.program()) as pulumi.Inputs;
      } catch (error) {
        failure = { error };
        return {};
      }
    });
  } finally {
    // Also on failure: every registration under way is recorded before the caller looks.
    await settings.disconnect();
    await new Promise((resolve) => setImmediate(resolve));
    process.removeAllListeners("unhandledRejection");
    for (const listener of callerListeners) process.on("unhandledRejection", listener);
    for (const [key, value] of Object.entries(machine)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    if (standInHome !== undefined) fs.rmSync(standInHome, { recursive: true, force: true });
  }
  if (failure) throw failure.error;
  const resources = monitor.registrations.sort((a, b) => a.urn.localeCompare(b.urn));
  return { resources, outputs: outputs ?? {} };
}
