// npm run synth -- [--stack NAME] [--config FILE] [--out DIR] [--program FILE]
// Renders a stack offline into DIR. Exit 0 on success; on invalid configuration, exit 1 with one
// line per problem and nothing written.
//
// --program FILE renders another Pulumi program (its default export, or `export =`, is the
// program) instead of this project's index.ts, e.g. examples/platform/index.ts. Such a program
// may carry its settings in code: its stack file is then optional (default: Pulumi.<stack>.yaml
// beside the program, when it exists).
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError, renderStack, writeRender } from "./render";
import { readStackFile, StackFileError, type StackSettings } from "../config/stack-file";

/** The program a module exports: `export =` or `export default`, through any CommonJS wrapping. */
export async function loadProgram(file: string): Promise<() => unknown> {
  let exported: unknown = await import(pathToFileURL(resolve(file)).href);
  for (let i = 0; i < 3 && typeof exported !== "function" && exported !== null && typeof exported === "object" && "default" in exported; i++) {
    exported = exported.default;
  }
  if (typeof exported !== "function") throw new Error(`${file} must export its program as a function (export = () => ..., or export default)`);
  return exported as () => unknown;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string", default: "dev" },
      config: { type: "string" },
      out: { type: "string" },
      program: { type: "string" },
    },
    strict: true,
  });
  const stack = values.stack;
  const out = values.out ?? `out/${stack}`;
  let configFile: string | undefined = values.config ?? `Pulumi.${stack}.yaml`;
  if (values.program !== undefined && values.config === undefined) {
    const beside = join(dirname(values.program), `Pulumi.${stack}.yaml`);
    configFile = existsSync(beside) ? beside : undefined;
  }
  const source = values.program ?? configFile ?? "";
  try {
    // The settings as the Pulumi CLI hands them to the program, Pulumi.yaml's defaults included.
    const settings: StackSettings = configFile !== undefined ? readStackFile(configFile) : { config: {}, secretKeys: [] };
    const program = values.program !== undefined ? await loadProgram(values.program) : undefined;
    const render = await renderStack({ stack, settings, ...(program ? { program } : {}) });
    writeRender(render, out);
    console.log(`rendered stack ${stack} (${[values.program, configFile].filter(Boolean).join(", ") || "no stack file"}): ${render.resources.length} resources, ${render.files.size} files in ${out}`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${source}: ${error.message}`);
      return 1;
    }
    // A stack file the CLI would refuse: one line, naming the file.
    if (error instanceof StackFileError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
}

// Run only as the CLI, not when a test imports loadProgram.
if (require.main === module) {
  main().then((code) => process.exit(code), (error: unknown) => {
    console.error(error);
    process.exit(2);
  });
}
