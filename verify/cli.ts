// npm run verify -- [--stack NAME] [--config FILE] [--out DIR]
// Runs the cross-component checks on a render written by `npm run synth` (default out/<stack>).
// The renders of the project's other stacks beside it resolve cross-stack references.
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { securePlaceholder, readStackFile } from "../synth/stack-file";
import { verifyRender, type Findings } from "./index";
import { readRenderDir } from "./render-files";

function main(): number {
  const { values } = parseArgs({ options: { stack: { type: "string", default: "dev" }, config: { type: "string" }, out: { type: "string" } }, strict: true });
  const stack = values.stack;
  const out = resolve(values.out ?? `out/${stack}`);
  if (!existsSync(join(out, "resources.json"))) {
    console.error(`${out} holds no render: run \`npm run synth -- --stack ${stack}\` first`);
    return 2;
  }
  const settings = readStackFile(values.config ?? `Pulumi.${stack}.yaml`);
  const setting = (key: string) => settings.config[`canary-pipeline:${key}`];
  const number = (key: string) => (setting(key) === undefined ? undefined : Number(setting(key)));
  const others = readdirSync(dirname(out)).map((d) => join(dirname(out), d))
    .filter((d) => d !== out && existsSync(join(d, "resources.json"))).map(readRenderDir);
  const knownSecrets = Object.fromEntries(settings.secretKeys.map((k) => [k, securePlaceholder(k)]));
  const findings: Findings = verifyRender({
    files: readRenderDir(out),
    others,
    repository: { owner: setting("githubOwner"), name: setting("githubRepository"), ownerId: number("githubOwnerId"), repositoryId: number("githubRepositoryId") },
    existingProviderArn: setting("oidcProviderArn"),
    knownSecrets,
  });
  let failed = 0;
  for (const [check, list] of Object.entries(findings) as [string, string[]][]) {
    console.log(`${list.length === 0 ? "ok  " : "FAIL"} ${check}${list.length ? `: ${list.length} finding(s)` : ""}`);
    for (const f of list) console.log(`     ${f}`);
    failed += list.length;
  }
  return failed === 0 ? 0 : 1;
}

process.exit(main());
