// Runs the `run:` steps of a rendered workflow job the way a GitHub-hosted runner would: each with
// bash, in order, with the workflow's, the job's and the step's `env:` (expressions resolved from
// the values given), GITHUB_ENV, GITHUB_STEP_SUMMARY and RUNNER_TEMP, and the step conditions the
// generated workflows use (`success()`, `failure()`, `always()`, `cancelled()`,
// `steps.<id>.outcome`). `uses:` steps are actions: the tier puts what they install on PATH itself.
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
  readonly env?: Record<string, string>;
  readonly steps: Step[];
}
interface Workflow {
  readonly env?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

/** What the expressions of a job read: `vars.X`, `secrets.X`, `needs.J.outputs.X`, `env.X`. */
export interface ExpressionContext {
  readonly vars?: Record<string, string>;
  readonly secrets?: Record<string, string>;
  readonly needs?: Record<string, { readonly outputs: Record<string, string> }>;
}

export interface StepResult {
  readonly name: string;
  readonly outcome: "success" | "failure" | "skipped";
  readonly output: string;
}

export interface JobResult {
  readonly success: boolean;
  readonly steps: StepResult[];
  /** What the steps wrote to GITHUB_STEP_SUMMARY. */
  readonly summary: string;
  /** Every step's output, in order. */
  readonly log: string;
}

function resolve(text: string, context: ExpressionContext, env: Record<string, string>): string {
  return text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expression: string) => {
    const parts = expression.split(".");
    const value = parts[0] === "vars" && parts.length === 2 ? context.vars?.[parts[1]]
      : parts[0] === "secrets" && parts.length === 2 ? context.secrets?.[parts[1]]
        : parts[0] === "env" && parts.length === 2 ? env[parts[1]]
          : parts[0] === "needs" && parts.length === 4 && parts[2] === "outputs" ? context.needs?.[parts[1]]?.outputs[parts[3]]
            : undefined;
    if (value === undefined) throw new Error(`workflow runner: no value for \${{ ${expression} }}`);
    return value;
  });
}

/**
 * Evaluates a step's `if:` (GitHub's default is `success()`): `||`, `&&` and parentheses over the
 * status functions and `steps.<id>.outcome == / != '<value>'`. A run here is never cancelled.
 */
function condition(expression: string | undefined, failed: boolean, outcomes: Record<string, string>): boolean {
  const text = expression ?? "success()";
  const tokens = text.match(/\(|\)|&&|\|\||steps\.[\w-]+\.outcome\s*(?:==|!=)\s*'\w+'|\w+\(\)/g) ?? [];
  if (tokens.join("").replace(/\s/g, "") !== text.replace(/\s/g, "")) throw new Error(`workflow runner: unknown condition ${text}`);
  let at = 0;
  const term = (): boolean => {
    const t = tokens[at++];
    if (t === "(") {
      const value = or();
      if (tokens[at++] !== ")") throw new Error(`workflow runner: unbalanced condition ${text}`);
      return value;
    }
    if (t === "success()") return !failed;
    if (t === "failure()") return failed;
    if (t === "always()") return true;
    if (t === "cancelled()") return false;
    const outcome = /^steps\.([\w-]+)\.outcome\s*(==|!=)\s*'(\w+)'$/.exec(t ?? "");
    if (outcome) return (outcomes[outcome[1]] === outcome[3]) === (outcome[2] === "==");
    throw new Error(`workflow runner: unknown condition ${text}`);
  };
  const and = (): boolean => {
    let value = term();
    while (tokens[at] === "&&") { at++; value = term() && value; }
    return value;
  };
  const or = (): boolean => {
    let value = and();
    while (tokens[at] === "||") { at++; value = and() || value; }
    return value;
  };
  const value = or();
  if (at !== tokens.length) throw new Error(`workflow runner: unknown condition ${text}`);
  // As on GitHub, a condition without a status function is ANDed with success().
  return /\b(success|failure|always|cancelled)\(\)/.test(text) ? value : value && !failed;
}

export interface RunOptions {
  /** First on PATH: the tools the job's actions would install. */
  readonly pathPrefix: string[];
  /**
   * Ends a step as failed as soon as its output matches: for a step that would otherwise retry
   * until its timeout (kubectl's watches retry a Forbidden list until --timeout). Default: none.
   */
  readonly failOn?: RegExp;
}

/** bash's exit status and output; killed (status 124) once the output matches `failOn`. */
function bash(script: string, env: Record<string, string>, failOn: RegExp | undefined): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    // GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`.
    const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], { env, detached: true });
    let output = "";
    let matched = false;
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (failOn && !matched && failOn.test(output)) {
        matched = true;
        process.kill(-child.pid!, "SIGKILL");
      }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("close", (code) => resolve({ status: matched ? 124 : code ?? 1, output }));
  });
}

/** Runs one job's steps. */
export async function runJob(workflowYaml: string, jobId: string, context: ExpressionContext, options: RunOptions): Promise<JobResult> {
  const workflow = parse(workflowYaml) as Workflow;
  const job = workflow.jobs[jobId];
  if (!job) throw new Error(`workflow runner: no job ${jobId}`);
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), `runner-${jobId}-`));
  const files = { GITHUB_ENV: path.join(temp, "env"), GITHUB_STEP_SUMMARY: path.join(temp, "summary"), GITHUB_OUTPUT: path.join(temp, "output") };
  for (const file of Object.values(files)) fs.writeFileSync(file, "");
  let env: Record<string, string> = {
    HOME: temp, LANG: "C.UTF-8", RUNNER_TEMP: temp, CI: "true", GITHUB_ACTIONS: "true",
    PATH: [...options.pathPrefix, "/usr/local/bin", "/usr/bin", "/bin"].join(path.delimiter),
    ...files,
  };
  for (const [key, value] of Object.entries(workflow.env ?? {})) env[key] = resolve(value, context, env);
  for (const [key, value] of Object.entries(job.env ?? {})) env[key] = resolve(value, context, env);

  const steps: StepResult[] = [];
  const outcomes: Record<string, string> = {};
  let failed = false;
  let log = "";
  for (const step of job.steps) {
    if (step.run === undefined || !condition(step.if, failed, outcomes)) {
      const outcome = step.run === undefined && condition(step.if, failed, outcomes) ? "success" : "skipped";
      steps.push({ name: step.name, outcome, output: "" });
      if (step.id) outcomes[step.id] = outcome;
      continue;
    }
    if (step.shell !== undefined && step.shell !== "bash") throw new Error(`workflow runner: step ${step.name} uses shell ${step.shell}`);
    const stepEnv = { ...env };
    for (const [key, value] of Object.entries(step.env ?? {})) stepEnv[key] = resolve(value, context, env);
    const script = resolve(step.run, context, env);
    const ran = await bash(script, stepEnv, options.failOn);
    const output = ran.output;
    log += `== ${step.name} (exit ${ran.status})\n${output}`;
    const outcome = ran.status === 0 ? "success" : "failure";
    steps.push({ name: step.name, outcome, output });
    if (step.id) outcomes[step.id] = outcome;
    if (outcome === "failure") failed = true;
    // GITHUB_ENV: KEY=VALUE lines reach the steps after this one.
    const exported = fs.readFileSync(files.GITHUB_ENV, "utf8").split("\n").filter((l) => l.includes("="));
    env = { ...env, ...Object.fromEntries(exported.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])) };
  }
  const summary = fs.readFileSync(files.GITHUB_STEP_SUMMARY, "utf8");
  fs.rmSync(temp, { recursive: true, force: true });
  return { success: !failed, steps, summary, log };
}
