// Runs the `run:` steps of a rendered workflow job the way a GitHub-hosted runner would: each with
// bash, in order, with the workflow's, the job's and the step's `env:` (expressions resolved from
// the values given), GITHUB_ENV, GITHUB_STEP_SUMMARY and RUNNER_TEMP, and the step conditions the
// generated workflows use (`success()`, `failure()`, `always()`, `cancelled()`, `!`, comparisons of
// `steps.*`, `needs.*`, `inputs.*` and `env.*`), GITHUB_OUTPUT for step and job outputs, and a
// cancellation of the run during a step. `uses:` steps are actions: the tier puts what they install on PATH itself.
// An expression or condition it does not know fails the run: it never guesses.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";

interface Step {
  readonly name: string;
  readonly id?: string;
  readonly if?: string;
  readonly run?: string;
  readonly uses?: string;
  readonly shell?: string;
  readonly env?: Record<string, string>;
}
interface Job {
  readonly if?: string;
  readonly needs?: string[];
  readonly env?: Record<string, string>;
  readonly outputs?: Record<string, string>;
  readonly steps: Step[];
}
interface Workflow {
  readonly env?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

export type JobOutcome = "success" | "failure" | "cancelled" | "skipped";

/** What the expressions of a job read: `vars.X`, `secrets.X`, `inputs.X`, `github.X`, `needs.J.outputs.X`, `needs.J.result`. */
export interface ExpressionContext {
  readonly vars?: Record<string, string>;
  readonly secrets?: Record<string, string>;
  readonly inputs?: Record<string, string>;
  readonly github?: Record<string, string>;
  readonly needs?: Record<string, { readonly result?: JobOutcome; readonly outputs: Record<string, string> }>;
}

export interface StepResult {
  readonly name: string;
  readonly outcome: "success" | "failure" | "cancelled" | "skipped";
  readonly output: string;
  /** How long it ran (0 when skipped). */
  readonly seconds: number;
}

export interface JobResult {
  readonly success: boolean;
  /** As `needs.<job>.result` reads it. */
  readonly result: JobOutcome;
  readonly steps: StepResult[];
  /** The job's `outputs:`, from its steps' outputs. */
  readonly outputs: Record<string, string>;
  /** What the steps wrote to GITHUB_STEP_SUMMARY. */
  readonly summary: string;
  /** Every step's output, in order. */
  readonly log: string;
}

/** What a job's expressions can see while it runs. */
interface Scope {
  readonly context: ExpressionContext;
  readonly env: Record<string, string>;
  readonly steps: Record<string, { outcome: string; outputs: Record<string, string> }>;
  readonly failed: boolean;
  readonly cancelled: boolean;
}

/**
 * A property of a context (`inputs.digest`, `needs.build.result`, `steps.deploy.outcome`, ...).
 * GitHub gives null for a missing input; like GitHub's comparisons here, null is ''. Anything else
 * it does not know fails the run: it never guesses.
 */
function property(path: string, scope: Scope): string {
  const parts = path.split(".");
  const c = scope.context;
  const [head, a, b, d] = parts;
  const value =
    head === "vars" && parts.length === 2
      ? c.vars?.[a]
      : head === "secrets" && parts.length === 2
        ? c.secrets?.[a]
        : head === "env" && parts.length === 2
          ? (scope.env[a] ?? "")
          : head === "inputs" && parts.length === 2
            ? (c.inputs?.[a] ?? "")
            : head === "github" && parts.length === 2
              ? c.github?.[a]
              : head === "needs" && parts.length === 4 && b === "outputs"
                ? (c.needs?.[a]?.outputs[d] ?? "")
                : head === "needs" && parts.length === 3 && b === "result"
                  ? (c.needs?.[a]?.result ?? "success")
                  : head === "steps" && parts.length === 3 && b === "outcome"
                    ? (scope.steps[a]?.outcome ?? "")
                    : head === "steps" && parts.length === 4 && b === "outputs"
                      ? (scope.steps[a]?.outputs[d] ?? "")
                      : undefined;
  if (value === undefined) throw new Error(`workflow runner: no value for ${path}`);
  return value;
}

function resolve(text: string, scope: Scope): string {
  return text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expression: string) => property(expression, scope));
}

/**
 * Evaluates an `if:` (GitHub's default is `success()`): `!`, `&&`, `||`, parentheses, the status
 * functions, and `==` / `!=` between properties and '...' literals. A condition without a status
 * function is ANDed with success(), as on GitHub.
 */
function condition(expression: string | undefined, scope: Scope): boolean {
  const text = expression ?? "success()";
  const tokens = text.match(/\(|\)|&&|\|\||==|!=|!|'[^']*'|\w+\(\)|[A-Za-z_][\w.-]*/g) ?? [];
  if (tokens.join("").replace(/\s/g, "") !== text.replace(/\s/g, ""))
    throw new Error(`workflow runner: unknown condition ${text}`);
  let at = 0;
  const fail = () => {
    throw new Error(`workflow runner: unknown condition ${text}`);
  };
  const value = (): string | boolean => {
    const t = tokens[at++];
    if (t === undefined) return fail();
    if (t === "(") {
      const v = or();
      if (tokens[at++] !== ")") fail();
      return v;
    }
    if (t === "!") return !truthy(value());
    if (t === "success()") return !scope.failed && !scope.cancelled;
    if (t === "failure()") return scope.failed;
    if (t === "always()") return true;
    if (t === "cancelled()") return scope.cancelled;
    if (t.startsWith("'")) return t.slice(1, -1);
    if (/^[A-Za-z_]/.test(t) && t.includes(".")) return property(t, scope);
    return fail();
  };
  const truthy = (v: string | boolean) => (typeof v === "boolean" ? v : v !== "");
  const comparison = (): string | boolean => {
    const left = value();
    if (tokens[at] === "==" || tokens[at] === "!=") {
      const op = tokens[at++];
      const right = value();
      return (String(left) === String(right)) === (op === "==");
    }
    return left;
  };
  const and = (): string | boolean => {
    let v = comparison();
    while (tokens[at] === "&&") {
      at++;
      const r = comparison();
      v = truthy(v) && truthy(r);
    }
    return v;
  };
  const or = (): string | boolean => {
    let v = and();
    while (tokens[at] === "||") {
      at++;
      const r = and();
      v = truthy(v) || truthy(r);
    }
    return v;
  };
  const result = truthy(or());
  if (at !== tokens.length) fail();
  return /\b(success|failure|always|cancelled)\(\)/.test(text) ? result : result && !scope.failed && !scope.cancelled;
}

export interface RunOptions {
  /** First on PATH: the tools the job's actions would install. */
  readonly pathPrefix: string[];
  /**
   * Ends a step as failed as soon as its output matches: for a step that would otherwise retry
   * until its timeout (kubectl's watches retry a Forbidden list until --timeout). Default: none.
   */
  readonly failOn?: RegExp;
  /**
   * Cancels the run while this step runs, after `afterSeconds` (default 0): the step is killed and
   * later steps see `cancelled()`, as when a run is cancelled by hand or a job hits its timeout.
   */
  readonly cancelDuring?: { readonly step: string; readonly afterSeconds?: number };
}

/** bash's exit status and output; killed (status 124) once the output matches `failOn`. */
function bash(
  script: string,
  env: Record<string, string>,
  failOn: RegExp | undefined,
  cancelAfter?: number,
): Promise<{ status: number; output: string; cancelled: boolean }> {
  return new Promise((resolve) => {
    // GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`.
    const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], { env, detached: true });
    let output = "";
    let matched = false;
    let cancelled = false;
    const timer =
      cancelAfter === undefined
        ? undefined
        : setTimeout(() => {
            cancelled = true;
            process.kill(-child.pid!, "SIGKILL");
          }, cancelAfter * 1000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (failOn && !matched && failOn.test(output)) {
        matched = true;
        process.kill(-child.pid!, "SIGKILL");
      }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolve({ status: matched ? 124 : (code ?? 1), output, cancelled });
    });
  });
}

/** Runs one job's steps, or skips the job when its `if:` (default: every job it needs succeeded) is false. */
export async function runJob(
  workflowYaml: string,
  jobId: string,
  context: ExpressionContext,
  options: RunOptions,
): Promise<JobResult> {
  const workflow = parse(workflowYaml) as Workflow;
  const job = workflow.jobs[jobId];
  if (!job) throw new Error(`workflow runner: no job ${jobId}`);
  const needed = (job.needs ?? []).map((n) => context.needs?.[n]?.result ?? "success");
  const jobScope: Scope = {
    context,
    env: {},
    steps: {},
    failed: needed.includes("failure"),
    cancelled: needed.includes("cancelled"),
  };
  const runs = job.if === undefined ? needed.every((r) => r === "success") : condition(job.if, jobScope);
  if (!runs) return { success: true, result: "skipped", steps: [], outputs: {}, summary: "", log: "" };

  const temp = fs.mkdtempSync(path.join(os.tmpdir(), `runner-${jobId}-`));
  const files = {
    GITHUB_ENV: path.join(temp, "env"),
    GITHUB_STEP_SUMMARY: path.join(temp, "summary"),
    GITHUB_OUTPUT: path.join(temp, "output"),
  };
  for (const file of Object.values(files)) fs.writeFileSync(file, "");
  let env: Record<string, string> = {
    HOME: temp,
    LANG: "C.UTF-8",
    RUNNER_TEMP: temp,
    CI: "true",
    GITHUB_ACTIONS: "true",
    PATH: [...options.pathPrefix, "/usr/local/bin", "/usr/bin", "/bin"].join(path.delimiter),
    ...Object.fromEntries(Object.entries(context.github ?? {}).map(([k, v]) => [`GITHUB_${k.toUpperCase()}`, v])),
    ...files,
  };
  const scope = (): Scope => ({ context, env, steps, failed, cancelled });
  const steps: Record<string, { outcome: string; outputs: Record<string, string> }> = {};
  let failed = false;
  let cancelled = false;
  for (const [key, value] of Object.entries(workflow.env ?? {})) env[key] = resolve(value, scope());
  for (const [key, value] of Object.entries(job.env ?? {})) env[key] = resolve(value, scope());

  const results: StepResult[] = [];
  let log = "";
  for (const step of job.steps) {
    fs.writeFileSync(files.GITHUB_OUTPUT, "");
    if (step.run === undefined || !condition(step.if, scope())) {
      const outcome = step.run === undefined && condition(step.if, scope()) ? "success" : "skipped";
      results.push({ name: step.name, outcome, output: "", seconds: 0 });
      if (step.id) steps[step.id] = { outcome, outputs: {} };
      continue;
    }
    if (step.shell !== undefined && step.shell !== "bash")
      throw new Error(`workflow runner: step ${step.name} uses shell ${step.shell}`);
    const stepEnv = { ...env };
    for (const [key, value] of Object.entries(step.env ?? {})) stepEnv[key] = resolve(value, scope());
    const script = resolve(step.run, scope());
    const cancelHere = options.cancelDuring?.step === step.name ? (options.cancelDuring.afterSeconds ?? 0) : undefined;
    const started = Date.now();
    const ran = await bash(script, stepEnv, options.failOn, cancelHere);
    const outcome = ran.cancelled ? "cancelled" : ran.status === 0 ? "success" : "failure";
    log += `== ${step.name} (${ran.cancelled ? "cancelled" : `exit ${ran.status}`})\n${ran.output}`;
    results.push({ name: step.name, outcome, output: ran.output, seconds: (Date.now() - started) / 1000 });
    if (ran.cancelled) cancelled = true;
    else if (outcome === "failure") failed = true;
    if (step.id) steps[step.id] = { outcome, outputs: keyValues(files.GITHUB_OUTPUT) };
    // GITHUB_ENV: KEY=VALUE lines reach the steps after this one.
    env = { ...env, ...keyValues(files.GITHUB_ENV) };
  }
  const outputs = Object.fromEntries(
    Object.entries(job.outputs ?? {}).map(([key, value]) => [key, resolve(value, scope())]),
  );
  const summary = fs.readFileSync(files.GITHUB_STEP_SUMMARY, "utf8");
  fs.rmSync(temp, { recursive: true, force: true });
  const result: JobOutcome = cancelled ? "cancelled" : failed ? "failure" : "success";
  return { success: result === "success", result, steps: results, outputs, summary, log };
}

/** The KEY=VALUE lines of a GITHUB_ENV or GITHUB_OUTPUT file. */
function keyValues(file: string): Record<string, string> {
  const lines = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.includes("="));
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}
