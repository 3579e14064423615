// The project as its users run it: a copy of the repository's files, the real Pulumi CLI started in
// it, the Node.js language host that reads Pulumi.yaml (runtime.options: nodeargs) to start
// index.ts, the real kubernetes and command plugins, and the aws and github stand-ins
// (test-control-plane/standins/), all found on PATH as a user's installed plugins are. A file backend and a
// passphrase of the copy's own; nothing is acquired from the network.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { adminKubeconfig, clusterDir, repoRoot, toolsBin } from "./control-plane";

/** Where the aws and github stand-in plugins are. */
export const standinsBin = path.join(repoRoot, "test-control-plane", "standins", "bin");

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ProjectCopy {
  /** The copy's directory: the project's tracked files, node_modules linked. */
  readonly dir: string;
  /** The file the stand-ins record their calls in, one JSON object per line. */
  readonly standinLog: string;
  /** Everything every CLI run printed so far, for the secrets' check. */
  readonly printed: string[];
  /** Runs `pulumi ARGS` in the copy. */
  pulumi(args: readonly string[], options?: { input?: string; env?: NodeJS.ProcessEnv }): CliRun;
  /** Runs `pulumi ARGS` and fails with its output unless it exits 0; returns stdout. */
  ok(args: readonly string[], options?: { input?: string; env?: NodeJS.ProcessEnv }): string;
}

export interface StandinCall {
  readonly method: string;
  readonly type?: string;
  readonly token?: string;
  readonly urn?: string;
  readonly [key: string]: unknown;
}

/**
 * The CLI's environment in a folder of its own: `home` as HOME and PULUMI_HOME's parent, a file
 * backend under it, a passphrase, the tools on PATH, and nothing fetched from the network.
 */
export function cliEnvironment(home: string, passphrase: string): NodeJS.ProcessEnv {
  for (const sub of ["state", "pulumi"]) fs.mkdirSync(path.join(home, sub), { recursive: true });
  return {
    PATH: `${toolsBin}${path.delimiter}${process.env.PATH ?? ""}`,
    HOME: home,
    PULUMI_HOME: path.join(home, "pulumi"),
    PULUMI_BACKEND_URL: `file://${path.join(home, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
}

/** The calls the stand-ins recorded, in order. */
export function standinCalls(copy: ProjectCopy): StandinCall[] {
  if (!fs.existsSync(copy.standinLog)) return [];
  return fs
    .readFileSync(copy.standinLog, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as StandinCall);
}

/**
 * A fresh copy of the project: every file git tracks, as a user's clone holds them, with the
 * repository's node_modules linked in (what `npm ci` would install). `env`: more variables for
 * the CLI and so for the program and plugins it starts.
 */
export function projectCopy(name: string, env: NodeJS.ProcessEnv = {}, morePath: readonly string[] = []): ProjectCopy {
  const dir = path.join(clusterDir, "projects", name);
  fs.rmSync(dir, { recursive: true, force: true });
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: repoRoot, encoding: "utf8" })
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    const source = path.join(repoRoot, file);
    if (!fs.existsSync(source)) continue;
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(source, path.join(dir, file));
  }
  fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"));
  const home = path.join(dir, ".home");
  const standinLog = path.join(home, "standins.jsonl");
  const fullEnv: NodeJS.ProcessEnv = {
    ...cliEnvironment(home, "project-tier"),
    PATH: [
      ...morePath,
      toolsBin,
      standinsBin,
      path.dirname(process.execPath),
      "/usr/local/bin",
      "/usr/bin",
      "/bin",
    ].join(path.delimiter),
    TMPDIR: process.env.TMPDIR ?? "/tmp",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    KUBECONFIG: adminKubeconfig,
    CANARY_STANDIN_LOG: standinLog,
    ...env,
  };
  const printed: string[] = [];
  const pulumi = (args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): CliRun => {
    const run = spawnSync(path.join(toolsBin, "pulumi"), [...args, "--non-interactive"], {
      cwd: dir,
      env: { ...fullEnv, ...options.env },
      encoding: "utf8",
      input: options.input ?? "",
      maxBuffer: 64 * 1024 * 1024,
      timeout: 600_000,
    });
    printed.push(run.stdout, run.stderr);
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  };
  const ok = (args: readonly string[], options?: { input?: string; env?: NodeJS.ProcessEnv }): string => {
    const run = pulumi(args, options);
    if (run.status !== 0)
      throw new Error(`pulumi ${args.join(" ")} exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
    return run.stdout;
  };
  return { dir, standinLog, printed, pulumi, ok };
}

/**
 * A folder holding `aws` as an eks-mode stack's kubeconfig calls it (`aws eks get-token`, its exec
 * credential plugin): it answers with the admin's client certificate, standing for the token EKS
 * would accept for whoever runs `pulumi up`. Anything else it refuses.
 */
export function awsCliStandin(): string {
  const dir = path.join(clusterDir, "aws-cli");
  fs.mkdirSync(dir, { recursive: true });
  const view = JSON.parse(
    execFileSync(
      path.join(toolsBin, "kubectl"),
      ["config", "view", "--raw", "--minify", "--flatten", "--output", "json"],
      { env: { ...process.env, KUBECONFIG: adminKubeconfig }, encoding: "utf8" },
    ),
  ) as { users: { user: Record<string, string> }[] };
  const user = view.users[0].user;
  const pem = (data: string) => Buffer.from(data, "base64").toString("utf8");
  const credential = {
    apiVersion: "client.authentication.k8s.io/v1beta1",
    kind: "ExecCredential",
    status: {
      clientCertificateData: pem(user["client-certificate-data"]),
      clientKeyData: pem(user["client-key-data"]),
    },
  };
  fs.writeFileSync(
    path.join(dir, "aws"),
    `#!${process.execPath}
const [service, command] = process.argv.slice(2);
if (service !== "eks" || command !== "get-token") { console.error("aws stand-in: only eks get-token"); process.exit(2); }
process.stdout.write(${JSON.stringify(JSON.stringify(credential))});
`,
    { mode: 0o755 },
  );
  return dir;
}

/** The steps of `pulumi preview --json`. */
export interface PreviewStep {
  readonly op: string;
  readonly urn: string;
  readonly diffReasons?: string[];
  readonly detailedDiff?: Record<string, unknown>;
}

/** `pulumi preview --json`'s result: its steps and diagnostics. */
export function previewJson(stdout: string): {
  steps: PreviewStep[];
  diagnostics: { message: string; severity: string }[];
} {
  const parsed = JSON.parse(stdout) as { steps?: PreviewStep[]; diagnostics?: { message: string; severity: string }[] };
  return { steps: parsed.steps ?? [], diagnostics: parsed.diagnostics ?? [] };
}
