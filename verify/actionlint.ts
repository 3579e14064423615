// rhysd/actionlint on one workflow's text: the real binary that tools/build.sh builds from its Go
// module (tools/actionlint), with Debian's shellcheck and pyflakes, so that its shellcheck rule
// checks every `run:` script and its pyflakes rule every Python one. actionlint skips those rules
// silently when it cannot find the programs, so both are named explicitly and required.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** One problem actionlint reports. */
interface Finding {
  readonly path: string;
  readonly line: number;
  readonly column: number;
  /** actionlint's rule, such as `expression`, `syntax-check`, `permissions`, `shellcheck`. */
  readonly kind: string;
  readonly message: string;
}

const actionlintBinary = path.join(
  process.env.CANARY_TOOLS_BIN ?? path.resolve(__dirname, "..", "out", "tools", "bin"),
  "actionlint",
);

function which(program: string): string | undefined {
  const found = spawnSync("sh", ["-c", `command -v ${program}`], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** A tool the check needs is not installed: the fix is to install it (verify/cli.ts prints one line). */
export class MissingToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MissingToolError";
  }
}

let tools: { shellcheck: string; pyflakes: string } | undefined;

function linterTools(): { shellcheck: string; pyflakes: string } {
  if (!tools) {
    if (!fs.existsSync(actionlintBinary))
      throw new MissingToolError("actionlint is not built: run tools/build.sh actionlint");
    const shellcheck = which("shellcheck");
    const pyflakes = which("pyflakes3") ?? which("pyflakes");
    if (!shellcheck || !pyflakes)
      throw new MissingToolError(
        "actionlint needs shellcheck and pyflakes on PATH (Debian: apt-get install shellcheck pyflakes3)",
      );
    tools = { shellcheck, pyflakes };
  }
  return tools;
}

interface Reported {
  readonly message: string;
  readonly filepath: string;
  readonly line: number;
  readonly column: number;
  readonly kind: string;
}

/**
 * GitHub's `queue` key of a concurrency group (`single` or `max`, docs.github.com "Control the
 * concurrency of workflows and jobs", added in May 2026) postdates actionlint 1.7.12, the newest
 * release the module proxy serves, whose syntax check knows `group` and `cancel-in-progress` only.
 * That one finding, on a `queue: max` line, is GitHub's syntax, not a problem; nothing else is dropped.
 */
function isKnownQueueKey(finding: Reported, content: string): boolean {
  return (
    finding.kind === "syntax-check" &&
    finding.message.startsWith('unexpected key "queue" for "concurrency" section.') &&
    /^\s*queue: max$/.test(content.split("\n")[finding.line - 1] ?? "")
  );
}

/** actionlint's findings on one workflow file; `path` is where the file lives in the repository. */
export function lintWorkflow(filePath: string, content: string): Finding[] {
  const { shellcheck, pyflakes } = linterTools();
  const run = spawnSync(
    actionlintBinary,
    ["-format", "{{json .}}", "-shellcheck", shellcheck, "-pyflakes", pyflakes, "-stdin-filename", filePath, "-"],
    { input: content, encoding: "utf8" },
  );
  // Exit 0: no problem; 1: problems found (printed as JSON); anything else: actionlint failed.
  if (run.status !== 0 && run.status !== 1) throw new Error(`actionlint failed (exit ${run.status}): ${run.stderr}`);
  const reported = (JSON.parse(run.stdout || "[]") as Reported[]).filter((r) => !isKnownQueueKey(r, content));
  return reported.map((r) => ({ path: filePath, line: r.line, column: r.column, kind: r.kind, message: r.message }));
}

/** One line per finding, as `path:line:column: message [kind]`. */
export const formatFinding = (f: Finding) => `${f.path}:${f.line}:${f.column}: ${f.message} [${f.kind}]`;
