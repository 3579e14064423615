// npm run bench:real: the real engine against the local control plane (tools/build.sh first), in
// one run. For 1 and 10 services (token mode, one shared provider, as two-services.test.ts), as
// inline programs through the Automation API:
//   - the library's program: `pulumi up` from empty, again with `--parallel 64`, a no-op
//     `pulumi up` and a `pulumi preview`;
//   - the same Kubernetes objects declared flat, with no components (bench/replay.ts): the SDK's
//     and the engine's own cost; the objects and the provider it deploys are checked equal, input
//     for input, to the library's;
//   - `kubectl apply --server-side` of the same objects and a rollout wait: the floor.
// Every phase deploys the same objects under the same names, and some are cluster-scoped (the
// admission policies and their bindings, `<app>.<namespace>.…`), which a namespace's deletion
// leaves behind: each phase removes everything it deployed, cluster-scoped objects included, and
// waits for it to go, and each checks before it starts that none of its objects is there.
// Then the project itself as a user runs it (test-control-plane/project.ts: a copy of the repository, the
// real CLI and Node.js language host, the kubernetes and command plugins, the aws and github
// stand-ins): `pulumi stack init` and `config set`, `pulumi up` from empty, a no-op up, a preview,
// destroy, and an up from empty with the smoke test. And the program's start through the language
// host: no-op previews under Pulumi.yaml's runtime options (tsx) and under the ts-node that
// @pulumi/pulumi vendors (`typescript: true`), each with a cold and a warm compile cache, in turn,
// each timed from the CLI's start to the first events of the program in its event log
// (`--event-log`), watched from this process.
// Writes the "Real engine" section of docs/benchmarks.md. No target: these are figures to read.
// CANARY_BENCH_QUICK=1: 1 service and one start-up run of each kind, to prove that every phase
// works; prints the section without writing it.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import type { Stack } from "@pulumi/pulumi/automation";
import { parseDocument } from "yaml";
import { CanaryCluster } from "../components/cluster/canary-cluster";
import { ClientSideApplyProvider } from "../components/cluster/client-side-apply-provider";
import { deployOperations } from "../components/repository/workflows/deploy";
import { parseStackConfig } from "../config/load";
import type { StackConfig } from "../config/schema";
import {
  adminKubeconfig,
  adminKubectl,
  clusterDown,
  clusterRunning,
  clusterUp,
  repoRoot,
  smokeTestLogFile,
  toolsBin,
} from "../test-control-plane/control-plane";
import { projectCopy, type ProjectCopy } from "../test-control-plane/project";
import { clusterAccess, tierStack } from "../test-control-plane/stack";
import { runProgram, secretMarker, type RegisteredResource } from "../testing/mock-engine";
import { replayProgram } from "./replay";

const quick = process.env.CANARY_BENCH_QUICK === "1";
const sizes = quick ? [1] : [1, 10];
/** No-op previews per kind of program start; the median is reported. */
const startRuns = quick ? 1 : 5;

function services(count: number): StackConfig[] {
  const { server, caData } = clusterAccess();
  return Array.from({ length: count }, (_, i) =>
    parseStackConfig(
      {
        githubOwner: "acme",
        githubRepository: `svc-${i}`,
        appName: `svc-${i}`,
        namespace: `bench-${i}`,
        clusterAuth: "token",
        clusterEndpoint: server,
        clusterCaData: caData,
        replicas: 2,
        canaryWeight: 33,
        initialImage: `ghcr.io/acme/svc-${i}:1.0.0`,
        smokeTestOnUp: false,
      },
      "bench",
      { ghcrPullToken: false, slackWebhook: false },
    ),
  );
}

function libraryProgram(configs: StackConfig[]) {
  return () => {
    const provider = new ClientSideApplyProvider("bench-cluster", {
      kubeconfig: fs.readFileSync(adminKubeconfig, "utf8"),
    });
    for (const config of configs)
      new CanaryCluster(config.appName, { config, operations: deployOperations(config), provider });
    return Promise.resolve({});
  };
}

/** The program's registrations, recorded under the mock engine, for the flat replay and the floor. */
async function registrations(configs: StackConfig[]): Promise<RegisteredResource[]> {
  const { resources } = await runProgram({
    project: "bench",
    stack: "bench",
    config: {},
    secretKeys: [],
    program: libraryProgram(configs),
  });
  return resources;
}

/** Recorded inputs as plain values (secret markers dropped): a manifest for kubectl. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value === null || typeof value !== "object") return value;
  if (secretMarker in value) return plain((value as Record<string, unknown>)[secretMarker]);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
}

interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

/** The Kubernetes objects among the registrations, as the manifests kubectl applies. */
function kubeObjects(resources: readonly RegisteredResource[]): KubeObject[] {
  return resources
    .filter((r) => r.custom && r.type.startsWith("kubernetes:"))
    .map((r) => plain(r.inputs) as KubeObject);
}

const kubeList = (items: readonly unknown[]) => JSON.stringify({ apiVersion: "v1", kind: "List", items });

/**
 * What outlives a namespace's deletion: the namespaces themselves (until their contents are gone)
 * and the cluster-scoped objects, which name the service and namespace and so would collide with
 * the next phase's. Identified by kind and name only.
 */
function outliving(objects: readonly KubeObject[]): KubeObject[] {
  return objects
    .filter((o) => o.kind === "Namespace" || o.metadata.namespace === undefined)
    .map(({ apiVersion, kind, metadata }) => ({ apiVersion, kind, metadata: { name: metadata.name } }));
}

/** Those of `objects` that outlive their namespace and are in the cluster, as `kind/name`. */
function present(objects: readonly KubeObject[]): string[] {
  if (outliving(objects).length === 0) return [];
  return adminKubectl(
    ["get", "--filename", "-", "--ignore-not-found", "--output", "name"],
    kubeList(outliving(objects)),
  )
    .split("\n")
    .filter(Boolean);
}

/** Fails, naming them, when objects of `objects` are in the cluster before `phase`. */
function assertClean(objects: readonly KubeObject[], phase: string): void {
  const left = present(objects);
  if (left.length > 0) {
    throw new Error(
      `${phase}: already in the cluster: ${left.join(", ")} (left by an earlier run: delete them, or restart the cluster with npm run control-plane -- down)`,
    );
  }
}

/** Waits until none of `objects` is in the cluster (namespaces gone with their contents). */
function waitGone(objects: readonly KubeObject[], phase: string): void {
  const deadline = Date.now() + 300_000;
  for (let left = present(objects); left.length > 0; left = present(objects)) {
    if (Date.now() > deadline) throw new Error(`${phase}: still in the cluster after 300 s: ${left.join(", ")}`);
    execFileSync("sleep", ["0.5"]);
  }
}

const seconds = async (work: () => Promise<unknown>) => {
  const start = performance.now();
  await work();
  return (performance.now() - start) / 1000;
};
const secondsSync = (work: () => unknown) => {
  const start = performance.now();
  work();
  return (performance.now() - start) / 1000;
};

/** JSON with sorted keys: the same value, the same text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
    .join(",")}}`;
}

interface StateResource {
  readonly type: string;
  readonly urn: string;
  readonly inputs?: Record<string, unknown>;
}
interface StateExport {
  readonly deployment: { readonly resources?: StateResource[] };
}

/**
 * The Kubernetes objects of a stack's state (kind, namespace and name) and its Kubernetes
 * providers (type and name), to their inputs as deployed.
 */
function deployedObjects(state: StateExport): Map<string, string> {
  const resources = (state.deployment.resources ?? []).filter(
    (r) => r.inputs && (r.type.startsWith("kubernetes:") || r.type === "pulumi:providers:kubernetes"),
  );
  return new Map(
    resources.map((r) => {
      if (r.type.startsWith("pulumi:providers:")) return [`${r.type} ${r.urn.split("::").pop()}`, canonical(r.inputs)];
      const { kind, metadata } = r.inputs as unknown as KubeObject;
      return [`${kind} ${metadata.namespace ?? ""}/${metadata.name}`, canonical(r.inputs)];
    }),
  );
}

/**
 * The registrations as the flat replay is given them: a provider's inputs are recorded as sent,
 * its booleans already serialised (`enableServerSideApply: "false"`), and its SDK class
 * (k8s.Provider) serialises them again (`"\"false\""`, not the library's `"false"`); the booleans
 * are handed back as booleans, so the flat program's provider sends exactly the library's inputs.
 */
function replayable(resources: readonly RegisteredResource[]): RegisteredResource[] {
  return resources.map((r) =>
    r.type.startsWith("pulumi:providers:")
      ? {
          ...r,
          inputs: Object.fromEntries(
            Object.entries(r.inputs).map(([k, v]) => [k, v === "true" ? true : v === "false" ? false : v]),
          ),
        }
      : r,
  );
}

/** Fails unless the flat replay deployed exactly the library's objects and provider with exactly its inputs. */
function assertSameObjects(library: Map<string, string>, flat: Map<string, string>, size: number): void {
  const keys = [...new Set([...library.keys(), ...flat.keys()])].sort();
  const differing = keys.filter((k) => library.get(k) !== flat.get(k));
  if (differing.length > 0) {
    const detail = differing
      .slice(0, 5)
      .map((k) => `${k}\n  library: ${library.get(k) ?? "(absent)"}\n  flat:    ${flat.get(k) ?? "(absent)"}`);
    throw new Error(
      `${size} services: the flat replay does not deploy the library's objects and provider (${differing.length} differ):\n${detail.join("\n")}`,
    );
  }
}

interface Timings {
  up: number;
  noop: number;
  preview: number;
  deployed: Map<string, string>;
}

/** Up from empty, a no-op up, a preview, then destroy, and the cluster left without the objects. */
async function timeStack(stack: Stack, objects: readonly KubeObject[], phase: string): Promise<Timings> {
  assertClean(objects, phase);
  const up = await seconds(() => stack.up());
  const noop = await seconds(() => stack.up({ expectNoChanges: true }));
  const preview = await seconds(() => stack.preview({ expectNoChanges: true }));
  const deployed = deployedObjects(await stack.exportStack());
  await stack.destroy();
  waitGone(objects, phase);
  return { up, noop, preview, deployed };
}

/**
 * `pulumi up` from empty with the engine's parallelism raised: the CLI runs at most 4 × GOMAXPROCS
 * steps at once (`defaultParallel`, pulumi/pulumi pkg/cmd/pulumi/operations/up.go), and each
 * Deployment's step lasts until it is ready.
 */
async function timeParallelUp(
  stack: Stack,
  parallel: number,
  objects: readonly KubeObject[],
  phase: string,
): Promise<number> {
  assertClean(objects, phase);
  const up = await seconds(() => stack.up({ parallel }));
  await stack.destroy();
  waitGone(objects, phase);
  return up;
}

/**
 * The floor: the same objects applied server-side, then every Deployment's rollout awaited. Then
 * the namespaces and the cluster-scoped objects are deleted, and awaited.
 */
function timeFloor(objects: readonly KubeObject[], configs: StackConfig[], phase: string): number {
  assertClean(objects, phase);
  const namespaces = objects.filter((o) => o.kind === "Namespace");
  const rest = objects.filter((o) => o.kind !== "Namespace");
  const start = performance.now();
  adminKubectl(["apply", "--server-side", "--filename", "-"], kubeList(namespaces));
  adminKubectl(["apply", "--server-side", "--filename", "-"], kubeList(rest));
  for (const c of configs) {
    for (const d of [c.appName, `${c.appName}-canary`])
      adminKubectl(["rollout", "status", `deployment/${d}`, "--timeout=300s", "--namespace", c.namespace]);
  }
  const floor = (performance.now() - start) / 1000;
  adminKubectl(["delete", "--filename", "-", "--ignore-not-found", "--wait=false"], kubeList(outliving(objects)));
  waitGone(objects, phase);
  return floor;
}

// ---------------------------------------------------------------------------------------------
// The project through the CLI.

/**
 * The settings test/cluster/project.test.ts sets, in a namespace of the benchmark's own, with
 * `minReadySeconds` left at its default (10), as the inline programs' services have it, and the
 * smoke test after `pulumi up` off, as theirs is; one up from empty is measured with it on.
 */
function projectSettings(): [key: string, value: string][] {
  const { server, caData } = clusterAccess();
  return [
    ["githubOwner", "acme"],
    ["githubRepository", "orders-api"],
    ["appName", "orders-api"],
    ["namespace", "bench-cli"],
    ["clusterAuth", "token"],
    ["clusterEndpoint", server],
    ["clusterCaData", caData],
    ["initialImage", "ghcr.io/acme/orders-api:1.4.2"],
    ["replicas", "2"],
    ["canaryWeight", "33"],
    ["smokeTestOnUp", "false"],
  ];
}
/** The AWS account the stack names; the stand-in answers as it. */
const projectAccount = "210987654321";

/** The smoke test's report, as kwok serves it for the smoke-test pod (as test/cluster/release.ts writes it). */
function writePassingSmokeReport(appName: string, namespace: string): void {
  const url = `http://${appName}-canary.${namespace}.svc.cluster.local:80/healthz`;
  const stamp = new Date().toISOString();
  fs.writeFileSync(
    smokeTestLogFile,
    [`PASS canary 200 0.012s ${url}`, "RESULT pass"].map((l) => `${stamp} stdout F ${l}\n`).join(""),
  );
}

/** The Kubernetes objects of the stack's state, to wait for after destroy. */
function stateObjects(state: StateExport): KubeObject[] {
  return (state.deployment.resources ?? [])
    .filter((r) => r.type.startsWith("kubernetes:") && r.inputs)
    .map((r) => r.inputs as unknown as KubeObject);
}

interface StartRun {
  /** From spawning `pulumi preview`, in seconds: the refresh's last step (undefined without one). */
  readonly refreshed?: number;
  /** The Stack's registration: the language host has started node, and the SDK is loaded. */
  readonly stack: number;
  /** The program's first resource: index.ts and everything it imports are loaded. */
  readonly resource: number;
  /** The CLI's exit. */
  readonly total: number;
}

/**
 * Watches an event log from a worker thread, which keeps running while the main thread waits for
 * the CLI (spawnSync): it reads the file every 2 ms and notes when each event of interest is seen
 * (ms, on the clock `performance.timeOrigin + performance.now()` of both threads).
 */
const watcherSource = String.raw`
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const now = () => performance.timeOrigin + performance.now();
const marks = {};
let fd, offset = 0, pending = Buffer.alloc(0);
function note(event, t) {
  marks.first ??= t;
  const pre = event.resourcePreEvent;
  const metadata = (pre ?? event.resOutputsEvent)?.metadata;
  if (!metadata) return;
  if (metadata.op === "refresh") { if (marks.stack === undefined) marks.refreshed = t; return; }
  if (!pre) return;
  if (metadata.type === "pulumi:pulumi:Stack") marks.stack ??= t;
  else marks.resource ??= t;
}
function scan() {
  if (fd === undefined) { try { fd = fs.openSync(workerData.file, "r"); } catch { return; } }
  const size = fs.fstatSync(fd).size;
  if (size <= offset) return;
  const chunk = Buffer.alloc(size - offset);
  const read = fs.readSync(fd, chunk, 0, chunk.length, offset);
  offset += read;
  const t = now();
  pending = Buffer.concat([pending, chunk.subarray(0, read)]);
  const end = pending.lastIndexOf(10);
  if (end < 0) return;
  for (const line of pending.subarray(0, end).toString("utf8").split("\n")) if (line.trim()) note(JSON.parse(line), t);
  pending = pending.subarray(end + 1);
}
const timer = setInterval(scan, 2);
parentPort.on("message", () => {
  clearInterval(timer);
  scan();
  if (fd !== undefined) fs.closeSync(fd);
  parentPort.postMessage(marks);
});
parentPort.postMessage("ready");
`;

interface Marks {
  first?: number;
  refreshed?: number;
  stack?: number;
  resource?: number;
}

/** One no-op `pulumi preview` of the copy, timed from its spawn to its program's first events. */
async function timedPreview(copy: ProjectCopy, eventLog: string, env: NodeJS.ProcessEnv): Promise<StartRun> {
  fs.rmSync(eventLog, { force: true });
  const worker = new Worker(watcherSource, { eval: true, workerData: { file: eventLog } });
  const messages: unknown[] = [];
  let wake: (() => void) | undefined;
  worker.on("message", (m) => {
    messages.push(m);
    wake?.();
  });
  const next = async () => {
    while (messages.length === 0)
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    return messages.shift();
  };
  try {
    await next(); // ready
    const now = () => performance.timeOrigin + performance.now();
    const start = now();
    // The CLI offers --event-log only with its debug commands, as the Automation API runs it.
    const run = copy.pulumi(["preview", "--expect-no-changes", "--event-log", eventLog], {
      env: { ...env, PULUMI_DEBUG_COMMANDS: "true" },
    });
    const end = now();
    worker.postMessage("stop");
    const marks = (await next()) as Marks;
    if (run.status !== 0) throw new Error(`pulumi preview exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
    if (marks.stack === undefined || marks.resource === undefined)
      throw new Error(`no registration in the event log ${eventLog}`);
    const s = (t: number) => (t - start) / 1000;
    return {
      ...(marks.refreshed !== undefined ? { refreshed: s(marks.refreshed) } : {}),
      stack: s(marks.stack),
      resource: s(marks.resource),
      total: s(end),
    };
  } finally {
    await worker.terminate();
  }
}

interface StartKind {
  readonly label: string;
  readonly loader: "tsx" | "ts-node";
  readonly cache: "cold" | "warm";
  readonly runs: StartRun[];
}

/**
 * No-op previews of the deployed copy under each kind of program start, in turn (a slow spell of
 * the machine slows every kind alike): (a) Pulumi.yaml's own runtime options (tsx), (b) the same
 * with `typescript: true` and no `nodeargs`, the ts-node @pulumi/pulumi vendors. Each with a cold
 * and a warm cache: both loaders keep what they compiled in the temporary folder (ts-node 7.0.1
 * by default, keyed by each file's path and contents, type check included; tsx its transforms).
 * Cold: a fresh TMPDIR for each run, as a CI job starts; warm: a TMPDIR of the kind's own, filled
 * by one run before those measured.
 */
async function timeStarts(copy: ProjectCopy): Promise<StartKind[]> {
  const projectFile = path.join(copy.dir, "Pulumi.yaml");
  const original = fs.readFileSync(projectFile, "utf8");
  const options = (
    parseDocument(original).getIn(["runtime", "options"]) as { toJSON(): Record<string, unknown> }
  ).toJSON();
  const tsNode = parseDocument(original);
  tsNode.setIn(["runtime", "options", "typescript"], true);
  tsNode.deleteIn(["runtime", "options", "nodeargs"]);
  const tmpRoot = path.join(copy.dir, ".home", "tmp");
  fs.mkdirSync(tmpRoot, { recursive: true });
  const loaders = [
    {
      loader: "tsx" as const,
      label: `Pulumi.yaml's (tsx): \`typescript: ${String(options.typescript)}\`, \`nodeargs: ${String(options.nodeargs)}\``,
      file: original,
    },
    {
      loader: "ts-node" as const,
      label: "vendored ts-node: `typescript: true`, no `nodeargs`",
      file: tsNode.toString(),
    },
  ];
  const kinds = loaders.flatMap(({ loader, label, file }) =>
    (["cold", "warm"] as const).map((cache) => ({
      loader,
      cache,
      file,
      label: `${label}, ${cache} cache`,
      runs: [] as StartRun[],
      warmDir: path.join(tmpRoot, `warm-${loader}`),
    })),
  );
  const run = async (kind: (typeof kinds)[number], name: string) => {
    fs.writeFileSync(projectFile, kind.file);
    const tmp = kind.cache === "cold" ? fs.mkdtempSync(path.join(tmpRoot, "cold-")) : kind.warmDir;
    fs.mkdirSync(tmp, { recursive: true });
    try {
      return await timedPreview(copy, path.join(copy.dir, ".home", `events-${name}.jsonl`), { TMPDIR: tmp });
    } finally {
      if (kind.cache === "cold") fs.rmSync(tmp, { recursive: true, force: true });
    }
  };
  try {
    for (const kind of kinds.filter((k) => k.cache === "warm")) await run(kind, `${kind.loader}-warm-fill`);
    for (let i = 0; i < startRuns; i++) {
      for (const kind of kinds) {
        const result = await run(kind, `${kind.loader}-${kind.cache}-${i}`);
        console.log(`start, ${kind.loader}, ${kind.cache} cache, ${i + 1}: ${JSON.stringify(result)}`);
        kind.runs.push(result);
      }
    }
  } finally {
    fs.writeFileSync(projectFile, original);
  }
  return kinds.map(({ label, loader, cache, runs }) => ({ label, loader, cache, runs }));
}

interface ProjectTimings {
  kubernetes: number;
  standins: number;
  up: number;
  noop: number;
  preview: number;
  destroy: number;
  upWithSmokeTest: number;
  starts: StartKind[];
}

/** The project through the CLI, in a copy of the repository, as test/cluster/project.test.ts runs it. */
async function timeProject(): Promise<ProjectTimings> {
  const copy = projectCopy("bench", { CANARY_STANDIN_AWS_ACCOUNT: projectAccount });
  const settings = projectSettings();
  const namespace = settings.find(([k]) => k === "namespace")![1];
  const appName = settings.find(([k]) => k === "appName")![1];
  const namespaceOnly: KubeObject[] = [{ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }];
  assertClean(namespaceOnly, "the project");
  copy.ok(["stack", "init", "bench"]);
  for (const [key, value] of settings) copy.ok(["config", "set", key, value]);
  copy.ok(["config", "set", "--path", "aws:allowedAccountIds[0]", projectAccount]);
  copy.ok(["config", "set", "--secret", "ghcrPullToken"], { input: `ghp_${randomBytes(18).toString("hex")}` });
  copy.ok(["config", "set", "--secret", "slackWebhook"], {
    input: `https://hooks.slack.com/services/T0000/B0000/${randomBytes(12).toString("hex")}`,
  });
  let deployed: KubeObject[] = namespaceOnly;
  try {
    const up = secondsSync(() => copy.ok(["up", "--yes", "--skip-preview"]));
    const state = JSON.parse(copy.ok(["stack", "export"])) as StateExport;
    deployed = stateObjects(state);
    const resources = state.deployment.resources ?? [];
    const kubernetes = resources.filter((r) => r.type.startsWith("kubernetes:")).length;
    const standins = resources.filter((r) => /^(aws|github):/.test(r.type)).length;
    const noop = secondsSync(() => copy.ok(["up", "--yes", "--skip-preview", "--expect-no-changes"]));
    const preview = secondsSync(() => copy.ok(["preview", "--expect-no-changes"]));
    const starts = await timeStarts(copy);
    const destroy = secondsSync(() => copy.ok(["destroy", "--yes", "--skip-preview"]));
    waitGone(deployed, "the project");
    copy.ok(["config", "set", "smokeTestOnUp", "true"]);
    writePassingSmokeReport(appName, namespace);
    const upWithSmokeTest = secondsSync(() => copy.ok(["up", "--yes", "--skip-preview"]));
    copy.ok(["destroy", "--yes", "--skip-preview"]);
    waitGone(deployed, "the project");
    return { kubernetes, standins, up, noop, preview, destroy, upWithSmokeTest, starts };
  } catch (error) {
    copy.pulumi(["destroy", "--yes", "--skip-preview"]);
    throw error;
  } finally {
    copy.pulumi(["stack", "rm", "--yes", "--force", "bench"]);
  }
}

/** One sentence per cache: how much longer (or shorter) ts-node's program start takes than tsx's. */
function startComparison(
  rows: readonly { loader: string; cache: string; resource: number; programStart?: number }[],
): string {
  return (["cold", "warm"] as const)
    .map((cache) => {
      const tsx = rows.find((r) => r.loader === "tsx" && r.cache === cache)!;
      const tsNode = rows.find((r) => r.loader === "ts-node" && r.cache === cache)!;
      const [a, b, what] =
        tsx.programStart !== undefined && tsNode.programStart !== undefined
          ? [tsx.programStart, tsNode.programStart, "program start"]
          : [tsx.resource, tsNode.resource, "to the program's first resource"];
      const difference = b - a;
      return `With a ${cache} cache, ts-node takes ${Math.abs(difference).toFixed(2)} s ${difference >= 0 ? "more" : "less"} than tsx (${what}: ${b.toFixed(2)} against ${a.toFixed(2)} s).`;
    })
    .join(" ");
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function main(): Promise<void> {
  const began = performance.now();
  const load = os.loadavg()[0];
  const started = clusterRunning() ? false : (clusterUp(), true);
  try {
    const rows: string[] = [];
    const libraryOne: { up?: number; noop?: number; preview?: number } = {};
    for (const size of sizes) {
      const configs = services(size);
      const recorded = await registrations(configs);
      const objects = kubeObjects(recorded);
      const library = await timeStack(
        await tierStack(`bench-library-${size}`, libraryProgram(configs)),
        objects,
        `${size} services, library`,
      );
      const wide = await timeParallelUp(
        await tierStack(`bench-wide-${size}`, libraryProgram(configs)),
        64,
        objects,
        `${size} services, library --parallel 64`,
      );
      const replay = replayProgram(replayable(recorded));
      const flat = await timeStack(
        await tierStack(`bench-flat-${size}`, () => Promise.resolve(replay())),
        objects,
        `${size} services, flat`,
      );
      assertSameObjects(library.deployed, flat.deployed, size);
      const floor = timeFloor(objects, configs, `${size} services, floor`);
      if (size === 1) Object.assign(libraryOne, library);
      const f = (n: number) => n.toFixed(1);
      rows.push(
        `| ${size} | ${objects.length} | ${f(library.up)} | ${f(wide)} | ${f(flat.up)} | ${f(floor)} | ${(library.up / flat.up).toFixed(2)}× | ${(library.up / floor).toFixed(2)}× | ${f(library.noop)} | ${f(flat.noop)} | ${f(library.preview)} | ${f(flat.preview)} |`,
      );
      console.log(rows.at(-1));
    }
    const project = await timeProject();
    console.log(JSON.stringify({ ...project, starts: undefined }));
    const f = (n: number) => n.toFixed(1);
    const f2 = (n: number) => n.toFixed(2);
    const startRows = project.starts.map(({ label, loader, cache, runs }) => {
      const pick = (key: keyof StartRun) => runs.map((r) => r[key]).filter((v): v is number => v !== undefined);
      const programStart = runs.filter((r) => r.refreshed !== undefined).map((r) => r.resource - r.refreshed!);
      const range = (values: number[]) =>
        values.length > 1 ? ` (${f2(Math.min(...values))}–${f2(Math.max(...values))})` : "";
      return {
        loader,
        cache,
        resource: median(pick("resource")),
        programStart: programStart.length > 0 ? median(programStart) : undefined,
        row: `| ${label} | ${f2(median(pick("stack")))} | ${f2(median(pick("resource")))}${range(pick("resource"))} | ${programStart.length > 0 ? f2(median(programStart)) + range(programStart) : "–"} | ${f2(median(pick("total")))}${range(pick("total"))} |`,
      };
    });
    const cpu = os.cpus();
    const section = [
      "<!-- real-engine:start (written by npm run bench:real) -->",
      "## Real engine",
      "",
      `The Pulumi CLI ${execFileSync(path.join(toolsBin, "pulumi"), ["version"], { encoding: "utf8" }).trim()} and the kubernetes plugin built by tools/build.sh, against the`,
      "local control plane (kube-apiserver, controllers and scheduler, kwok's fake node), one run on this",
      `machine (${cpu.length} cores, Node.js ${process.version}; 1-minute load average ${load.toFixed(1)} at the start; ${((performance.now() - began) / 60_000).toFixed(0)} min in all).`,
      "Token-mode services of 2 stable replicas (`minReadySeconds` 10); every `pulumi up` and `preview`",
      "refreshes first (`options.refresh: always`). Seconds.",
      "",
      "### Inline programs",
      "",
      "The library's cluster components (CanaryCluster, one per service, sharing one provider) as an",
      "inline program through the Automation API; the same Kubernetes objects declared flat",
      "(`bench/replay.ts`: each registered by its SDK class with the same inputs, dependencies and",
      "provider; checked to deploy exactly the library's objects and provider, input for input); and the",
      "floor, `kubectl apply --server-side` of the same objects and a rollout wait. Every phase removes its",
      "objects, the cluster-scoped admission policies included, and waits for them to go before the",
      "next starts.",
      "",
      "| services | objects | up: library | up: library, `--parallel 64` | up: flat | floor: apply + rollout | library ÷ flat | library ÷ floor | no-op up: library | no-op up: flat | preview: library | preview: flat |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|",
      ...rows,
      "",
      "Where the time goes: library ÷ flat is what the components cost beside the same objects",
      "declared flat. An up from empty is bounded below by the Deployments' readiness",
      "(`minReadySeconds`), which the floor waits for too; beyond it, the engine runs at most",
      `4 × GOMAXPROCS steps at once (${4 * cpu.length} here) and a Deployment's step lasts until it is ready, so`,
      "many services' Deployments wait in waves: compare the `--parallel 64` column. A no-op up and a",
      "preview are the refresh (one read per object) and the diff.",
      "",
      "### The project through the CLI",
      "",
      "The project as a user runs it (`test-control-plane/project.ts`): a copy of the repository, `pulumi stack",
      "init` and `pulumi config set` of test/cluster/project.test.ts's token-mode settings (its two",
      "secrets with `--secret`), then the real CLI, which starts index.ts through the Node.js language",
      "host and Pulumi.yaml's runtime options, with the kubernetes and command plugins and the aws and",
      "github stand-ins. One service, as the inline programs' 1-service row: `minReadySeconds` 10 and the",
      "smoke test after `pulumi up` off; the last column is an up from empty with it on (the smoke-test",
      "pod's report served by kwok).",
      "",
      "| Kubernetes objects | aws and github resources (stand-ins) | up from empty | no-op up | preview | destroy | up from empty with the smoke test |",
      "|---|---|---|---|---|---|---|",
      `| ${project.kubernetes} | ${project.standins} | ${f(project.up)} | ${f(project.noop)} | ${f(project.preview)} | ${f(project.destroy)} | ${f(project.upWithSmokeTest)} |`,
      "",
      `Beside the library's inline program at 1 service: up ${f(project.up)} against ${f(libraryOne.up!)} s, no-op up ${f(project.noop)} against`,
      `${f(libraryOne.noop!)} s, preview ${f(project.preview)} against ${f(libraryOne.preview!)} s. The project declares the whole CanaryPipeline (the`,
      "AWS and GitHub sides too, each resource a call to its stand-in plugin), and every run of the CLI",
      "starts the program afresh through the language host, where the Automation API's inline program",
      "runs in the process that is already there.",
      "",
      "### Program start",
      "",
      `No-op \`pulumi preview\`s of the deployed project, each kind in turn, median of ${startRuns} each (with the`,
      "range). Each is timed from spawning the CLI to the first events of the program in the engine's",
      "event log (`pulumi preview --event-log FILE`, with `PULUMI_DEBUG_COMMANDS=true` as the Automation",
      "API sets it; one JSON event a line), which this process reads every 2 ms while the CLI runs. The",
      "Stack is registered once the language host has started node and the SDK is loaded (it registers",
      "the Stack, then loads the program); the program's first resource, once index.ts and all it",
      "imports are loaded and the settings checked. Program start is the program's first resource less",
      "the refresh's last step: the language host's run of the program, which the runtime options",
      "decide, without the CLI's own start and the refresh.",
      "",
      "Both loaders keep what they compile in the temporary folder: ts-node 7.0.1 (the one",
      "@pulumi/pulumi vendors) by default, keyed by each file's path and contents, and a file it finds",
      "there is neither compiled nor type-checked again; tsx its transforms. Cold: a fresh `TMPDIR` for",
      "each run, as in a CI job (the preview and drift workflows); warm: the cache of the previous start",
      "of the same files, as on a workstation (a file changed since is compiled, and by ts-node",
      "type-checked, again).",
      "",
      "| runtime options | Stack registered | program's first resource | program start | whole no-op preview |",
      "|---|---|---|---|---|",
      ...startRows.map((r) => r.row),
      "",
      startComparison(startRows),
      "<!-- real-engine:end -->",
    ].join("\n");
    if (quick) {
      console.log(`${section}\n(CANARY_BENCH_QUICK: docs/benchmarks.md left as it is)`);
      return;
    }
    const doc = path.join(repoRoot, "docs", "benchmarks.md");
    const text = fs.readFileSync(doc, "utf8");
    const marked = /<!-- real-engine:start[\s\S]*<!-- real-engine:end -->/;
    fs.writeFileSync(doc, marked.test(text) ? text.replace(marked, section) : `${text.trimEnd()}\n\n${section}\n`);
    console.log(section);
  } finally {
    if (started) clusterDown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
