// nektos/act (tools/build.sh builds it) running a rendered workflow whole, as GitHub's engine would:
// its triggers, job graph, `if:` expressions, matrix, step and job outputs, GITHUB_ENV, GITHUB_PATH
// and step summaries. Host mode (`-P <runner>=-self-hosted`): no container runtime, every job in a
// throwaway git repository, and no network: each pinned action (components/repository/workflows/
// actions.ts) resolves to a stand-in under test/cluster/actions/ through `--local-repository`.
import { execFile, execFileSync } from "node:child_process";
import { randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import type { StackConfig } from "../../config/schema";
import { actions } from "../../components/repository/workflows/actions";
import { deployWorkflow } from "../../components/repository/workflows/deploy";
import {
  deployWorkflowPath,
  kubeconfigSecret,
  rollbackKubeconfigSecret,
  runner,
} from "../../components/repository/workflows/names";
import { renderWorkflow } from "../../components/repository/workflows/writer";
import { parseDocument } from "yaml";
import { toolsBin } from "./tier";
import { loopbackCertificate } from "../fixtures/loopback-certificate";

export const actBinary = path.join(toolsBin, "act");
/** The stand-in actions, one folder per action repository (owner/repo). */
export const standInActions = path.join(__dirname, "actions");

/** A pinned action's repository (owner/repo) and the folder of its action.yml inside it. */
function actionRepository(repository: string): { repository: string; folder: string } {
  const [owner, name, ...folder] = repository.split("/");
  return { repository: `${owner}/${name}`, folder: folder.join("/") };
}

/** The stand-in's action.yml of each pinned action (`uses:` value → file). */
export function standInFiles(): Record<string, string> {
  return Object.fromEntries(
    Object.values(actions).map((a) => {
      const { repository, folder } = actionRepository(a.repository);
      return [`${a.repository}@${a.sha}`, path.join(standInActions, repository, folder, "action.yml")];
    }),
  );
}

/**
 * `--local-repository owner/repo@sha=<folder>` for every pinned action: act matches it against the
 * repository and ref of a `uses:` (act v0.2.89, pkg/runner/local_repository_cache.go: the key is the
 * URL's path and the ref, any host), and reads the action from the folder, its path inside included.
 */
export function localRepositories(): string[] {
  const repositories = new Map(
    Object.values(actions).map((a) => [`${actionRepository(a.repository).repository}@${a.sha}`, a.repository]),
  );
  return [...repositories].flatMap(([key, repository]) => [
    "--local-repository",
    `${key}=${path.join(standInActions, actionRepository(repository).repository)}`,
  ]);
}

/**
 * The workflow as act v0.2.89 can load it: its schema predates `concurrency.queue` (GitHub, May
 * 2026) and refuses the whole file, and act queues nothing anyway (it runs one run). That key is
 * removed, from the workflow's and each job's `concurrency`; nothing else changes. Returns the text
 * and the paths removed.
 */
export function forAct(workflow: string): { text: string; removed: string[] } {
  const doc = parseDocument(workflow);
  const jobs = doc.get("jobs", true) as { items?: { key: { value: string } }[] } | undefined;
  const paths = [
    ["concurrency", "queue"],
    ...(jobs?.items ?? []).map((j) => ["jobs", j.key.value, "concurrency", "queue"]),
  ];
  const removed = paths.filter((p) => doc.hasIn(p));
  for (const p of removed) doc.deleteIn(p);
  return {
    text: removed.length > 0 ? doc.toString({ lineWidth: 0 }) : workflow,
    removed: removed.map((p) => p.join(".")),
  };
}

/**
 * A git repository for act to run in (act reads the event's ref, the commit and the workflow from
 * it, and runs every host job in it): the workflow, and a package whose `npm ci` and `npm test`
 * pass offline, for the test job.
 */
export function actRepository(workflowPath: string, workflow: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "act-repo-"));
  const files: Record<string, string> = {
    [workflowPath]: workflow,
    "package.json": JSON.stringify({
      name: "act-service",
      version: "1.0.0",
      private: true,
      scripts: { test: "node -e \"console.log('tests pass on ' + process.version)\"" },
    }),
    "package-lock.json": JSON.stringify({
      name: "act-service",
      version: "1.0.0",
      lockfileVersion: 3,
      requires: true,
      packages: { "": { name: "act-service", version: "1.0.0" } },
    }),
    ".npmrc": "audit=false\nfund=false\nupdate-notifier=false\noffline=true\n",
  };
  for (const [file, contents] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), contents);
  }
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=act", "-c", "user.email=act@localhost", ...args], {
      cwd: dir,
      stdio: "ignore",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
    });
  git("init", "--quiet", "--initial-branch=main");
  git("add", "--all");
  git("commit", "--quiet", "--message", "the service");
  return dir;
}

/** A job's result as act logs it; "unfinished": act logged the job but no result (it was stopped). */
export type ActJobResult = "success" | "failure" | "skipped" | "unfinished";

/** One run of a job (one per matrix combination), as act's JSON log reports it. */
export interface ActJob {
  /** act's name for it: the workflow's name, the job's, and `-<n>` for a matrix combination. */
  readonly name: string;
  readonly matrix: Record<string, unknown>;
  readonly result: ActJobResult;
  /** The outcome of each step of the job's own `steps:`, by name (the steps of actions inside excluded). */
  readonly steps: Record<string, "success" | "failure" | "skipped">;
  /** How long each of those steps ran, in seconds (act's executionTime). */
  readonly stepSeconds: Record<string, number>;
  /** Every step output the job set (GITHUB_OUTPUT), the last value of each name. */
  readonly outputs: Record<string, string>;
  /** Every GITHUB_ENV variable the job set, the last value of each. */
  readonly env: Record<string, string>;
  /** What the job's steps wrote to GITHUB_STEP_SUMMARY. */
  readonly summary: string;
  /** What the job's steps printed, and act's lines about it. */
  readonly log: string;
}

export interface ActRun {
  /** act's exit status: 0 when no job failed. */
  readonly status: number;
  readonly seconds: number;
  /** The runs of each job id the log names (a job act never started is absent). */
  readonly jobs: Record<string, ActJob[]>;
  /** A job's result; a matrix's only when all its runs agree. "not run": act never got to it. */
  result(job: string): ActJobResult | "not run" | "mixed";
  /** The single run of a job (not a matrix); fails if there is none. */
  job(job: string): ActJob;
  /** act's log, one line per entry (of its debug entries, those naming what it skipped). */
  readonly log: string;
}

interface LogEntry {
  readonly msg: string;
  readonly level: string;
  readonly job?: string;
  readonly jobID?: string;
  readonly matrix?: Record<string, unknown> | null;
  readonly jobResult?: ActJobResult;
  readonly stepResult?: "success" | "failure" | "skipped";
  /** Nanoseconds (a Go time.Duration). */
  readonly executionTime?: number;
  readonly step?: string;
  readonly stepID?: string[];
  readonly stage?: string;
  readonly command?: string;
  readonly name?: string;
  readonly arg?: string;
  readonly content?: string;
  readonly raw_output?: boolean;
}

/** Reads act's `--json` log: one entry per line, each with the job (and its matrix) it is about. */
export function parseActLog(stdout: string): { jobs: Record<string, ActJob[]>; log: string } {
  type Building = { -readonly [K in keyof ActJob]: ActJob[K] } & { jobID: string; lines: string[] };
  const byName = new Map<string, Building>();
  const lines: string[] = [];
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    let entry: LogEntry;
    try {
      entry = JSON.parse(line) as LogEntry;
    } catch {
      lines.push(line);
      continue;
    }
    const text = entry.msg.replace(/\n$/, "");
    // Of the debug entries (--verbose), only those naming what act skipped.
    if (entry.level !== "debug" || /^Skipping /.test(text)) lines.push(`${entry.job ?? "act"}: ${text}`);
    if (entry.job === undefined || entry.jobID === undefined) continue;
    let job = byName.get(entry.job);
    if (!job) {
      job = {
        name: entry.job,
        jobID: entry.jobID,
        matrix: entry.matrix ?? {},
        result: "unfinished",
        steps: {},
        stepSeconds: {},
        outputs: {},
        env: {},
        summary: "",
        log: "",
        lines: [],
      };
      byName.set(entry.job, job);
    }
    if (entry.level !== "debug") job.lines.push(text);
    if (entry.jobResult !== undefined) job.result = entry.jobResult;
    // The job's own steps: one stepID (an action's inner steps have two or more), the Main stage.
    if (entry.stepResult !== undefined && entry.stage === "Main" && entry.stepID?.length === 1 && entry.step) {
      job.steps[entry.step] = entry.stepResult;
      if (entry.executionTime !== undefined) job.stepSeconds[entry.step] = entry.executionTime / 1e9;
    }
    if (entry.command === "set-output" && entry.name !== undefined) job.outputs[entry.name] = entry.arg ?? "";
    if (entry.command === "set-env" && entry.name !== undefined) job.env[entry.name] = entry.arg ?? "";
    if (entry.command === "summary" && entry.content !== undefined) job.summary += entry.content;
  }
  const jobs: Record<string, ActJob[]> = {};
  for (const { jobID, lines: jobLines, ...job } of byName.values())
    (jobs[jobID] ??= []).push({ ...job, log: jobLines.join("\n") });
  return { jobs, log: lines.join("\n") };
}

export interface ActOptions {
  /** The repository act runs in (actRepository). */
  readonly repository: string;
  /** The workflow file, relative to the repository. */
  readonly workflowPath: string;
  readonly event: "push" | "workflow_dispatch";
  /** The event's payload (`github.event`): `ref`, and `inputs` for a dispatch. */
  readonly payload: Record<string, unknown>;
  readonly vars?: Record<string, string>;
  readonly secrets?: Record<string, string>;
  /** Variables every step sees (act's --env): the run's number and id, the stand-ins' settings. */
  readonly env?: Record<string, string>;
  /** act is stopped after this long. Default: 300. */
  readonly timeoutSeconds?: number;
}

/**
 * Runs act on one workflow with a clean environment (PATH: node's folder and the system's; HOME: a
 * folder of its own, where act keeps its action cache and each job's RUNNER_TEMP), no cache server
 * and every pinned action stood in. Resolves with what its JSON log says, whatever its status.
 */
export async function runAct(options: ActOptions): Promise<ActRun> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "act-home-"));
  const eventFile = path.join(home, "event.json");
  fs.writeFileSync(eventFile, JSON.stringify(options.payload));
  const pairs = (flag: string, values: Record<string, string> = {}) =>
    Object.entries(values).flatMap(([k, v]) => [flag, `${k}=${v}`]);
  const args = [
    options.event,
    "--workflows",
    options.workflowPath,
    "--eventpath",
    eventFile,
    "--platform",
    `${runner}=-self-hosted`,
    "--no-cache-server",
    "--json",
    // Debug entries name the jobs and steps act skips (`jobResult: skipped`).
    "--verbose",
    ...localRepositories(),
    ...pairs("--var", options.vars),
    ...pairs("--secret", options.secrets),
    ...pairs("--env", options.env),
  ];
  const started = Date.now();
  try {
    const { status, stdout } = await new Promise<{ status: number; stdout: string }>((resolve, reject) => {
      execFile(
        actBinary,
        args,
        {
          cwd: options.repository,
          env: {
            PATH: [path.dirname(process.execPath), "/usr/bin", "/bin"].join(path.delimiter),
            HOME: home,
            ACT_DISABLE_VERSION_CHECK: "1",
          },
          maxBuffer: 256 * 1024 * 1024,
          timeout: (options.timeoutSeconds ?? 300) * 1000,
          killSignal: "SIGINT",
        },
        (error, stdout, stderr) => {
          const code: unknown = error ? error.code : 0;
          if (typeof code === "number") resolve({ status: code, stdout: `${stdout}\n${stderr}` });
          else reject(new Error(`act did not finish: ${error?.message}\n${stderr}\n${stdout.slice(-4000)}`));
        },
      );
    });
    const { jobs, log } = parseActLog(stdout);
    const result = (job: string): ActJobResult | "not run" | "mixed" => {
      const results = new Set((jobs[job] ?? []).map((j) => j.result));
      return results.size === 0 ? "not run" : results.size > 1 ? "mixed" : [...results][0];
    };
    const single = (job: string): ActJob => {
      const runs = jobs[job] ?? [];
      if (runs.length !== 1) throw new Error(`act ran ${runs.length} job(s) ${job}:\n${log.slice(-4000)}`);
      return runs[0];
    };
    return { status, seconds: (Date.now() - started) / 1000, jobs, result, job: single, log };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

export interface DeployRunOptions {
  readonly event: "push" | "workflow_dispatch";
  /** github.run_number: the release number the run gives what it builds. */
  readonly runNumber: number;
  /** workflow_dispatch inputs (digest). */
  readonly inputs?: Record<string, string>;
  /** The folder the cosign stand-in keeps attestations in: one per test file, so runs see earlier runs' attestations. */
  readonly registry: string;
  /** Findings the trivy stand-in reports (it then exits with the step's exit-code). Default: 0. */
  readonly trivyFindings?: number;
  /** The digest the build stand-in answers. Default: a sha256 of the tags and the run. */
  readonly builtDigest?: string;
}

/** The kubeconfigs a token-mode stack outputs: the deployer's and the rollback identity's. */
export interface TokenIdentities {
  readonly kubeconfig: string;
  readonly rollbackKubeconfig: string;
}

/**
 * One run of an environment's deploy workflow under act, rendered as test/cluster/release.ts
 * renders it, in a repository of its own on the deploy branch, with the token-mode environment
 * secrets of the stack's identities.
 */
export async function actDeployRun(
  config: StackConfig,
  identities: TokenIdentities,
  options: DeployRunOptions,
): Promise<ActRun> {
  if (config.clusterAuth !== "token") throw new Error("actDeployRun stands in for token mode only");
  const workflowPath = deployWorkflowPath(config.environment);
  const rendered = renderWorkflow(deployWorkflow(config), { project: "canary-pipeline", stack: config.stack });
  const repository = actRepository(workflowPath, forAct(rendered).text);
  const fullName = `${config.githubOwner}/${config.githubRepository}`;
  const ref = `refs/heads/${config.deployBranch}`;
  try {
    return await runAct({
      repository,
      workflowPath,
      event: options.event,
      payload: {
        ref,
        repository: {
          full_name: fullName,
          name: config.githubRepository,
          owner: { login: config.githubOwner },
          default_branch: config.deployBranch,
        },
        ...(options.inputs ? { inputs: options.inputs } : {}),
      },
      secrets: {
        [kubeconfigSecret]: identities.kubeconfig,
        [rollbackKubeconfigSecret]: identities.rollbackKubeconfig,
        GITHUB_TOKEN: "act-stand-in-token",
      },
      env: {
        GITHUB_RUN_NUMBER: String(options.runNumber),
        GITHUB_RUN_ID: String(randomInt(1_000_000, 2_000_000_000)),
        GITHUB_REPOSITORY: fullName,
        GITHUB_REPOSITORY_OWNER: config.githubOwner,
        // GitHub sets it; act does not (the keyless identity the cosign stand-in signs with).
        GITHUB_WORKFLOW_REF: `${fullName}/${workflowPath}@${ref}`,
        STANDIN_KUBECTL: path.join(toolsBin, "kubectl"),
        STANDIN_COSIGN_REGISTRY: options.registry,
        STANDIN_TRIVY_FINDINGS: String(options.trivyFindings ?? 0),
        ...(options.builtDigest ? { STANDIN_BUILD_DIGEST: options.builtDigest } : {}),
      },
    });
  } finally {
    fs.rmSync(repository, { recursive: true, force: true });
  }
}

/**
 * An API server that never answers: TLS completes, every request then waits for ever (kubectl sets no
 * request timeout of its own). A kubeconfig for it stands for a cluster that hangs, so that only a
 * step's `timeout-minutes` can end the step. `connections()` counts the clients still connected.
 */
export async function hangingServer(): Promise<{
  kubeconfig: string;
  connections: () => number;
  close: () => Promise<void>;
}> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "act-hanging-"));
  const { key, cert } = loopbackCertificate(dir);
  const sockets = new Set<import("node:net").Socket>();
  const server = tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  });
  fs.rmSync(dir, { recursive: true, force: true });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const kubeconfig = JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": "hanging",
    clusters: [{ name: "hanging", cluster: { server: `https://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } }],
    users: [{ name: "hanging", user: { token: "hanging" } }],
    contexts: [{ name: "hanging", context: { cluster: "hanging", user: "hanging" } }],
  });
  return {
    kubeconfig,
    connections: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
