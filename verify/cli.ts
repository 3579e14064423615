// npm run verify -- [--stack NAME] [--config FILE] [--out DIR]
// Runs the cross-component checks on a render written by `npm run synth` (default out/<stack>).
// The renders of the project's other stacks beside it resolve cross-stack references.
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { mockServiceAccountToken } from "../synth/mock-engine";
import { securePlaceholder, readStackFile } from "../synth/stack-file";
import { lintRender, verifyRender } from "./index";
import { ofType, readRenderDir, type RenderFiles } from "./render-files";

async function main(): Promise<number> {
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
  // The renders beside this one that commit to the same repository: the other stacks of it.
  const repositoryOf = (files: RenderFiles) => ofType(files, "github:index/repositoryEnvironment:RepositoryEnvironment")[0]?.inputs.repository;
  const files = readRenderDir(out);
  const others = readdirSync(dirname(out)).map((d) => join(dirname(out), d))
    .filter((d) => d !== out && existsSync(join(d, "resources.json"))).map(readRenderDir)
    .filter((o) => repositoryOf(o) === repositoryOf(files));
  // Offline, a secret's value is its placeholder; the token is what the mock cluster issues.
  const knownSecrets = { ...Object.fromEntries(settings.secretKeys.map((k) => [k, securePlaceholder(k)])), serviceAccountToken: mockServiceAccountToken };
  const findings: Record<string, string[]> = { ...await verifyRender({
    files,
    others,
    repository: { owner: setting("githubOwner"), name: setting("githubRepository"), ownerId: number("githubOwnerId"), repositoryId: number("githubRepositoryId") },
    existingProviderArn: setting("oidcProviderArn"),
    knownSecrets,
  }), actionlint: lintRender(files) };
  let failed = 0;
  for (const [check, list] of Object.entries(findings)) {
    console.log(`${list.length === 0 ? "ok  " : "FAIL"} ${check}${list.length ? `: ${list.length} finding(s)` : ""}`);
    for (const f of list) console.log(`     ${f}`);
    failed += list.length;
  }
  return failed === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(error);
  process.exit(2);
});
