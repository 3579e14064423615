// npm run synth -- [--stack NAME] [--config FILE] [--out DIR]
// Renders a stack offline into DIR. Exit 0 on success; on invalid configuration, exit 1 with one
// line per problem and nothing written.
import { parseArgs } from "node:util";
import { ConfigError, renderStack, writeRender } from "./render";
import { readStackFile } from "./stack-file";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { stack: { type: "string", default: "dev" }, config: { type: "string" }, out: { type: "string" } },
    strict: true,
  });
  const stack = values.stack;
  const configFile = values.config ?? `Pulumi.${stack}.yaml`;
  const out = values.out ?? `out/${stack}`;
  try {
    const render = await renderStack({ stack, settings: readStackFile(configFile) });
    writeRender(render, out);
    console.log(`rendered stack ${stack} (${configFile}): ${render.resources.length} resources, ${render.files.size} files in ${out}`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${configFile}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(error);
  process.exit(2);
});
