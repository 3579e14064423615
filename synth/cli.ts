// npm run synth -- [--stack NAME] [--config FILE] [--out DIR] [--program FILE]
// Renders a stack offline into DIR. Exit 0 on success (and for --help); 1 when the stack file or
// its settings are refused, with one line per problem and nothing written; 2 when an input is
// missing or the options are wrong (one line: what, and the fix). A user's mistake never prints a
// stack trace; a trace means a bug of this program.
//
// --program FILE renders another Pulumi program (its default export, or `export =`, is the
// program) instead of this project's index.ts, e.g. examples/platform/index.ts. Such a program
// may carry its settings in code: its stack file is then optional (default: Pulumi.<stack>.yaml
// beside the program, when it exists).
import * as pulumi from "@pulumi/pulumi";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError } from "../config/errors";
import { readStackFile, StackFileError, type StackSettings } from "../config/stack-file";
import { RenderError } from "./artifacts";
import { renderStack, writeRender } from "./render";

const usage = "npm run synth -- [--stack NAME] [--config FILE] [--out DIR] [--program FILE]";

const help = `usage: ${usage}

Renders a stack offline, under Pulumi's mock engine, into a folder: resources.json, the files the
stack commits to its repository (repo/), the Kubernetes objects (kubernetes/), the IAM policies (aws/)
and summary.md.

  --stack NAME     the stack (default: dev)
  --config FILE    its stack file (default: Pulumi.<stack>.yaml; with --program, the one beside the program, if any)
  --out DIR        where to write the render (default: out/<stack>)
  --program FILE   render another program than this project's index.ts (its default export)
  --help           print this and exit

Exit: 0 rendered; 1 the stack file or its settings are refused (one line per problem); 2 an input is
missing or an option is wrong.`;

/** A missing or wrong input: one line, without a stack trace, exit 2. */
class UsageError extends Error {}

/** The program a module exports: `export =` or `export default`, through any CommonJS wrapping. */
export async function loadProgram(file: string): Promise<() => unknown> {
  let exported: unknown = await import(pathToFileURL(resolve(file)).href);
  for (
    let i = 0;
    i < 3 &&
    typeof exported !== "function" &&
    exported !== null &&
    typeof exported === "object" &&
    "default" in exported;
    i++
  ) {
    exported = exported.default;
  }
  if (typeof exported !== "function")
    throw new UsageError(
      `--program ${file} must export its program as a function (export = () => ..., or export default)`,
    );
  return exported as () => unknown;
}

function options(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        stack: { type: "string", default: "dev" },
        config: { type: "string" },
        out: { type: "string" },
        program: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (usage: ${usage})`);
  }
}

/** Where the CLI prints: the console, or a test's lists. */
export interface CliOutput {
  readonly log: (line: string) => void;
  readonly error: (line: string) => void;
}

/**
 * The CLI on `args` (process.argv without node and the script): its exit code. A user's mistake is
 * printed as its message and returns 1 or 2; anything else (a bug) is thrown.
 */
export async function synthCli(args: string[], print: CliOutput = console): Promise<number> {
  try {
    return await main(args, print);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    print.error(`synth: ${error.message}`);
    return 2;
  }
}

async function main(args: string[], print: CliOutput): Promise<number> {
  const values = options(args);
  if (values.help) {
    print.log(help);
    return 0;
  }
  const stack = values.stack;
  const out = values.out ?? `out/${stack}`;
  if (values.program !== undefined && !existsSync(values.program))
    throw new UsageError(`--program ${values.program}: no such file`);
  if (values.config !== undefined && !existsSync(values.config))
    throw new UsageError(`--config ${values.config}: no such file`);
  let configFile: string | undefined = values.config ?? `Pulumi.${stack}.yaml`;
  if (values.program !== undefined && values.config === undefined) {
    const beside = join(dirname(values.program), `Pulumi.${stack}.yaml`);
    configFile = existsSync(beside) ? beside : undefined;
  }
  if (configFile !== undefined && !existsSync(configFile)) {
    throw new UsageError(
      `no stack file ${configFile} for stack ${stack}: name it with --config FILE, or pick a stack with one (--stack prod), or, for a program that carries its settings in code, name the program with --program FILE`,
    );
  }
  const source = values.program ?? configFile ?? "";
  try {
    // The settings as the Pulumi CLI hands them to the program, Pulumi.yaml's defaults included.
    const settings: StackSettings =
      configFile !== undefined ? readStackFile(configFile) : { config: {}, secretKeys: [] };
    const program = values.program !== undefined ? await loadProgram(values.program) : undefined;
    const render = await renderStack({ stack, settings, ...(program ? { program } : {}) });
    writeRender(render, out);
    print.log(
      `rendered stack ${stack} (${[values.program, configFile].filter(Boolean).join(", ") || "no stack file"}): ${render.resources.length} resources, ${render.files.size} files in ${out}`,
    );
    return 0;
  } catch (error) {
    // Bad settings or Args: one line per problem, after the file or program that holds them.
    if (error instanceof ConfigError) {
      print.error(`${source}: ${error.message}`);
      return 1;
    }
    // A stack file the CLI would refuse (a YAML syntax error among them): one line, naming the file.
    if (error instanceof StackFileError) {
      print.error(error.message);
      return 1;
    }
    // A program's own refusal, as the Pulumi CLI prints it, or one the offline render cannot lay out: the message alone.
    if (
      pulumi.RunError.isInstance(error) ||
      (pulumi.ResourceError.isInstance(error) && error.hideStack) ||
      error instanceof RenderError
    ) {
      print.error(`${source}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

// Run only as the CLI, not when a test imports it.
if (require.main === module) {
  synthCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(2);
    },
  );
}
