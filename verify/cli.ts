// npm run verify -- [--stack NAME] [--config FILE] [--out DIR] [--program FILE]
// Runs the cross-component checks on a render written by `npm run synth` (default out/<stack>).
// The options are synth's: --program FILE names the program the render is of, whose stack file is
// then optional (default: Pulumi.<stack>.yaml beside the program, when it exists), as for
// examples/platform/index.ts, which carries its settings in code. Without --stack, the stack is
// the one the render under --out is of (dev when --out is not given either).
// The renders beside it that commit to one of its repositories resolve cross-stack references.
// Exit 0: every check passed (and for --help); 1: findings listed; 2: an input is missing or an
// option is wrong (one line: what, and the fix). A user's mistake never prints a stack trace.
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { mockServiceAccountToken } from "../testing/mock-engine";
import { securePlaceholder, readStackFile, StackFileError, type StackSettings } from "../config/stack-file";
import { MissingToolError } from "./actionlint";
import { lintRender, verifyRender } from "./index";
import { committedRepositories, readRenderDir, resourceEntries, type RenderFiles } from "./render-files";

/** A missing or wrong input: reported as one line, without a stack trace. */
class UsageError extends Error {}

const usage = "npm run verify -- [--stack NAME] [--config FILE] [--out DIR] [--program FILE]";

const help = `usage: ${usage}

Checks a render written by \`npm run synth\` across its parts: every job against the role it assumes,
every kubectl command against the deployer Role, secrets, names, and the Kubernetes and actionlint
validators (docs/verification.md).

  --stack NAME     the stack (default: the one the render under --out is of, else dev)
  --config FILE    its stack file (default: Pulumi.<stack>.yaml; with --program, the one beside the program, if any)
  --out DIR        the render (default: out/<stack>)
  --program FILE   the program the render is of, when not this project's index.ts
  --help           print this and exit

Exit: 0 every check passed; 1 findings listed; 2 an input is missing or an option is wrong.`;

function options() {
  try {
    return parseArgs({
      options: {
        stack: { type: "string" },
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

/** The stack a render is of, from its URNs (`urn:pulumi:<stack>::...`). */
const renderedStack = (files: RenderFiles) => /^urn:pulumi:([^:]+)::/.exec(resourceEntries(files)[0]?.urn ?? "")?.[1];

/** The stack file, as synth chooses it; undefined: a program with its settings in code. */
function stackFile(values: ReturnType<typeof options>, stack: string): string | undefined {
  if (values.config !== undefined) {
    if (!existsSync(values.config)) throw new UsageError(`--config ${values.config}: no such file`);
    return values.config;
  }
  if (values.program !== undefined) {
    const beside = join(dirname(values.program), `Pulumi.${stack}.yaml`);
    return existsSync(beside) ? beside : undefined;
  }
  const file = `Pulumi.${stack}.yaml`;
  if (!existsSync(file)) {
    throw new UsageError(
      `no stack file ${file}: name it with --config FILE, or, for the render of a program that carries its settings in code, name the program with --program FILE (e.g. --program examples/platform/index.ts --stack platform)`,
    );
  }
  return file;
}

function settingsOf(file: string | undefined): StackSettings {
  if (file === undefined) return { config: {}, secretKeys: [] };
  try {
    return readStackFile(file);
  } catch (error) {
    const why = error instanceof StackFileError ? error.reason : (error as Error).message;
    throw new UsageError(
      `${file} is not a readable stack file (${why.split("\n")[0]}): fix it or name another with --config FILE`,
    );
  }
}

async function main(): Promise<number> {
  const values = options();
  if (values.help) {
    console.log(help);
    return 0;
  }
  if (values.program !== undefined && !existsSync(values.program))
    throw new UsageError(`--program ${values.program}: no such file`);
  const out = resolve(values.out ?? `out/${values.stack ?? "dev"}`);
  if (!existsSync(join(out, "resources.json"))) {
    const synth = [
      values.program && `--program ${values.program}`,
      `--stack ${values.stack ?? "dev"}`,
      values.out && `--out ${values.out}`,
    ]
      .filter(Boolean)
      .join(" ");
    throw new UsageError(
      `${relative(".", out) || "."} holds no render (--out): run \`npm run synth -- ${synth}\` first`,
    );
  }
  const files = readRenderDir(out);
  const rendered = renderedStack(files);
  const stack = values.stack ?? rendered ?? "dev";
  if (rendered !== undefined && rendered !== stack) {
    throw new UsageError(
      `--stack ${stack}: ${relative(".", out)} holds a render of stack ${rendered}; pass --stack ${rendered}, or render ${stack} into it first`,
    );
  }
  const configFile = stackFile(values, stack);
  const settings = settingsOf(configFile);
  const setting = (key: string) => settings.config[`canary-pipeline:${key}`];
  const number = (key: string) => (setting(key) === undefined ? undefined : Number(setting(key)));
  const owner = setting("githubOwner");
  const name = setting("githubRepository");
  // The renders beside this one that commit to one of its repositories: the other stacks of them.
  const repositoryKeys = (f: RenderFiles) => committedRepositories(f).map((r) => `${r.owner ?? ""}/${r.name}`);
  const own = new Set(repositoryKeys(files));
  const others = readdirSync(dirname(out))
    .map((d) => join(dirname(out), d))
    .filter((d) => d !== out && existsSync(join(d, "resources.json")))
    .map(readRenderDir)
    .filter((o) => repositoryKeys(o).some((k) => own.has(k)));
  // Offline, a secret's value is its placeholder; the token is what the mock cluster issues.
  const knownSecrets = {
    ...Object.fromEntries(settings.secretKeys.map((k) => [k, securePlaceholder(k)])),
    serviceAccountToken: mockServiceAccountToken,
  };
  const findings: Record<string, string[]> = {
    ...(await verifyRender({
      files,
      others,
      ...(owner !== undefined && name !== undefined
        ? { repository: { owner, name, ownerId: number("githubOwnerId"), repositoryId: number("githubRepositoryId") } }
        : {}),
      existingProviderArn: setting("oidcProviderArn"),
      knownSecrets,
    })),
    actionlint: lintRender(files),
  };
  console.log(`verified ${relative(".", out)}: stack ${stack} (${configFile ?? "no stack file"})`);
  let failed = 0;
  for (const [check, list] of Object.entries(findings)) {
    console.log(`${list.length === 0 ? "ok  " : "FAIL"} ${check}${list.length ? `: ${list.length} finding(s)` : ""}`);
    for (const f of list) console.log(`     ${f}`);
    failed += list.length;
  }
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      error instanceof UsageError || error instanceof MissingToolError ? `verify: ${error.message}` : error,
    );
    process.exit(2);
  },
);
