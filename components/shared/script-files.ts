// The pipeline's long shell scripts are real files (components/scripts/*.sh), read when a stack
// renders. What varies is added ahead of a file's text: a preamble of shell functions, one per
// cluster operation the script performs (operationPreamble: the command of the catalogue,
// cluster-operations.ts, from which the RBAC rules are derived, so the Role grants what the script
// runs), then the script's parameters as shell assignments. Each file reads its parameters
// by name and checks them (`: "${NAME:?…}"`), so it runs alike in a workflow step, a pod, or a test
// that sets them in its environment. `npm run build` copies the files beside the built modules
// (dist/components/scripts), where this module finds them as it does in the sources.
import * as fs from "node:fs";
import * as path from "node:path";
import type { NamedOperations } from "./cluster-operations";

/** Each script file and the shell it runs in: bash on the job's machine, sh (busybox) in the curl image's pods. */
export const scriptFiles = {
  /** `retrying COMMAND…`: a read tried again, with a bound (put ahead of the scripts that poll). */
  "retrying.sh": "bash",
  /** The pod runners' waits: `wait_for_pod SECONDS`, `remove_pod_and_wait` (put ahead of the smoke-test and bake runners). */
  "pod-wait.sh": "bash",
  /** The smoke test's runner: creates the pod, waits for it, reads and judges its report. */
  "smoke-test-runner.sh": "bash",
  /** The smoke-test pod: requests each target, one report line per request. */
  "smoke-test-pod.sh": "sh",
  /** The bake window's runner: starts the bake pod and watches the canary's pods until the window ends. */
  "bake-runner.sh": "bash",
  /** The bake pod: probes the canary and measures its metrics every interval. */
  "bake-pod.sh": "sh",
  /** The functions both pods' scripts share (put ahead of them): `parameter NAME`, `check SERVICE URL`. */
  "pod-functions.sh": "sh",
  /** The canary reaper's CronJob: scales an expired canary to 0. */
  "canary-reaper.sh": "sh",
  /** Scales this run's canary to 0 and leaves another run's alone (a step of the canary, promote and rollback jobs). */
  "canary-retire.sh": "bash",
  /** The promotion's check at the moment it acts: this run's canary, healthy, unexpired, and no newer release on stable. */
  "promote-check.sh": "bash",
  /** Cancels a run whose promotion still waits for approval when the canary expires. */
  "approval-deadline.sh": "bash",
  /** canaryEngine argo-rollouts: waits for the controller's verdict on the canary. */
  "rollout-verdict.sh": "bash",
  /** canaryEngine argo-rollouts: checks the Rollout waits for this run's promotion, promotes it, waits for Healthy. */
  "rollout-promote.sh": "bash",
  /** canaryEngine argo-rollouts: aborts this run's canary and leaves another run's alone. */
  "rollout-abort.sh": "bash",
  /** Waits for a Deployment's rollout and fails at once when a pod of the new image cannot become ready (a fragment of a step). */
  "rollout-watch.sh": "bash",
} as const;

export type ScriptFile = keyof typeof scriptFiles;

/** The folder of the script files: beside this module's folder, in the sources (components/) as in dist/components/. */
export const scriptsFolder = path.join(__dirname, "..", "scripts");

const texts = new Map<ScriptFile, string>();

/** The text of a script file (read once), without its first line's shellcheck directive: that names the shell of the file on its own. */
export function scriptText(name: ScriptFile): string {
  let text = texts.get(name);
  if (text === undefined) {
    text = fs.readFileSync(path.join(scriptsFolder, name), "utf8").replace(/^# shellcheck shell=\w+\n/, "");
    texts.set(name, text);
  }
  return text;
}

/** A literal in double quotes: `\`, `"`, `$` and `` ` `` escaped, the only characters special there (a newline stays one). */
const doubleQuoted = (text: string) => `"${text.replace(/[\\"$`]/g, "\\$&")}"`;

/**
 * A value as one shell word, never evaluated: as it is when it holds only letters, digits and
 * `_./:@%+=,`, else a literal in double quotes (not single quotes: shellcheck would take a `$` in
 * one for an expansion meant, SC2016; nor a bare `-`, which it takes for arithmetic, SC2100).
 */
export function shellWord(value: string | number): string {
  const text = String(value);
  return /^[A-Za-z0-9_./:@%+=,]+$/.test(text) ? text : doubleQuoted(text);
}

/** A parameter's value: a literal, or `{ default: literal }` that the variable of the same name, when set and not empty, overrides. */
export type ParameterValue = string | number | { readonly default: string | number };

const parameterName = /^[A-Z][A-Z0-9_]*$/;

/**
 * The parameters as shell assignments, one a line (exported for a pod's script: it reads indexed
 * ones through printenv), each value a literal (shellWord). A default is assigned only when the
 * variable is empty or unset (`[ -n "${NAME:-}" ] || NAME=…`: a literal in `${NAME:-…}` would end at its first `}`).
 */
export function shellParameters(
  parameters: Readonly<Record<string, ParameterValue>>,
  options: { readonly exported?: boolean } = {},
): string {
  return Object.entries(parameters)
    .map(([name, value]) => {
      if (!parameterName.test(name))
        throw new Error(`${name} is not a script parameter's name (upper case, digits and _)`);
      if (typeof value !== "object") return `${options.exported ? "export " : ""}${name}=${shellWord(value)}`;
      return `[ -n "\${${name}:-}" ] || ${name}=${shellWord(value.default)}${options.exported ? `\nexport ${name}` : ""}`;
    })
    .join("\n");
}

/**
 * A parameter that names a file: a new temporary file (mktemp), holding `content` (a heredoc, so
 * that the verifier reads what the script writes there: verify/kubectl.ts).
 */
export function shellFileParameter(name: string, content: string, delimiter = "MANIFEST"): string {
  if (!parameterName.test(name)) throw new Error(`${name} is not a script parameter's name (upper case, digits and _)`);
  if (content.split("\n").includes(delimiter))
    throw new Error(`the content of ${name} holds a line ${delimiter}, its heredoc's end`);
  return [`${name}="$(mktemp)"`, `cat > "$${name}" <<'${delimiter}'`, content, delimiter].join("\n");
}

/** A script as it runs: its parts (preamble, parameters, files' texts) one after the other, empty parts left out. */
export function composeScript(...parts: readonly string[]): string {
  return parts
    .map((p) => p.replace(/\n+$/, ""))
    .filter((p) => p !== "")
    .join("\n");
}

/** The shell function an operation is called by: its name in snake case (`removePod`: `remove_pod`). */
export const shellFunctionName = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The preamble a script's file runs after: one function a line, each running its operation's
 * command (`remove_pod() { kubectl delete pod/… ; }`), the function's arguments being the command's "$1"….
 */
export function operationPreamble(operations: NamedOperations): string {
  return Object.entries(operations)
    .map(([name, op]) => `${shellFunctionName(name)}() { ${op.command}; }`)
    .join("\n");
}
