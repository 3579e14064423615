// npm run synth (synth/cli.ts) as a user runs it: a user's mistake is a message and an exit code,
// never a stack trace. --help prints the usage and exits 0; a missing input or a wrong option is
// one line and exit 2; a stack file the CLI would refuse (a YAML syntax error) or refused settings
// are their lines and exit 1, nothing written. --help runs the CLI as a process (exit code and
// output as a user sees them; test/config/stack-file.test.ts runs two refusals so); the others
// call it in this process, with what it prints captured.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { synthCli } from "../../synth/cli";

const synthProcess = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "synth/cli.ts", ...args], { encoding: "utf8" });
const scratch = mkdtempSync(join(tmpdir(), "synth-cli-"));
const out = join(scratch, "out");
const usageLine = "usage: npm run synth -- [--stack NAME] [--config FILE] [--out DIR] [--program FILE]";

/** The CLI in this process: its exit code and what it printed, line by line. */
async function synth(...args: string[]): Promise<{ status: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const status = await synthCli(args, {
    log: (line) => stdout.push(...line.split("\n")),
    error: (line) => stderr.push(...line.split("\n")),
  });
  return { status, stdout, stderr };
}

/** Exit `status`, nothing printed but `lines` as errors (no stack trace), nothing written. */
function assertRefused(
  run: { status: number; stdout: string[]; stderr: string[] },
  status: number,
  lines: (string | RegExp)[],
) {
  assert.equal(run.status, status, run.stderr.join("\n"));
  assert.deepEqual(run.stdout, []);
  assert.equal(run.stderr.length, lines.length, `no stack trace:\n${run.stderr.join("\n")}`);
  lines.forEach((line, i) =>
    typeof line === "string" ? assert.equal(run.stderr[i], line) : assert.match(run.stderr[i], line),
  );
  assert.ok(!existsSync(out), "nothing written");
}

describe("npm run synth as a process", () => {
  test("--help prints the usage and the options, and exits 0", () => {
    const run = synthProcess("--help");
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.ok(run.stdout.startsWith(`${usageLine}\n`), run.stdout);
    for (const option of ["--stack NAME", "--config FILE", "--out DIR", "--program FILE", "--help"])
      assert.ok(run.stdout.includes(`  ${option} `), option);
  });
});

describe("npm run synth: a user's mistake, without a stack trace", () => {
  test("-h is --help", async () => {
    const run = await synth("-h");
    assert.equal(run.status, 0);
    assert.equal(run.stdout[0], usageLine);
  });

  test("a stack without a stack file, a missing --config or --program, and an unknown option: one line each, exit 2", async () => {
    assertRefused(await synth("--stack", "staging", "--out", out), 2, [
      "synth: no stack file Pulumi.staging.yaml for stack staging: name it with --config FILE, or pick a stack with one (--stack prod), or, for a program that carries its settings in code, name the program with --program FILE",
    ]);
    assertRefused(await synth("--config", join(scratch, "Pulumi.none.yaml"), "--out", out), 2, [
      `synth: --config ${join(scratch, "Pulumi.none.yaml")}: no such file`,
    ]);
    assertRefused(await synth("--program", "examples/none/index.ts", "--out", out), 2, [
      "synth: --program examples/none/index.ts: no such file",
    ]);
    assertRefused(await synth("--stak", "dev"), 2, [
      /^synth: Unknown option '--stak'.* \(usage: npm run synth -- \[--stack NAME\]/,
    ]);
  });

  test("a program that exports no program: one line, exit 2", async () => {
    const program = join(scratch, "not-a-program.ts");
    writeFileSync(program, "export const x = 1;\n");
    assertRefused(await synth("--program", program, "--out", out), 2, [
      `synth: --program ${program} must export its program as a function (export = () => ..., or export default)`,
    ]);
  });

  test("a program the offline render cannot lay out (one object on two clusters): one line, exit 1", async () => {
    const program = join(scratch, "two-clusters.ts");
    writeFileSync(
      program,
      [
        `import * as k8s from ${JSON.stringify(join(process.cwd(), "node_modules", "@pulumi", "kubernetes"))};`,
        "export default () => {",
        '  for (const cluster of ["a", "b"]) new k8s.core.v1.Namespace(`orders-${cluster}`, { metadata: { name: "orders" } }, { provider: new k8s.Provider(cluster) });',
        "};",
      ].join("\n"),
    );
    assertRefused(await synth("--program", program, "--stack", "two", "--out", out), 1, [
      `${program}: two resources render to kubernetes/Namespace.cluster.orders.yaml: give them distinct names`,
    ]);
  });

  test("a YAML syntax error in the stack file: one line naming the file, exit 1", async () => {
    const file = join(scratch, "Pulumi.broken.yaml");
    writeFileSync(file, "config:\n  canary-pipeline:replicas: [3\n");
    assertRefused(await synth("--stack", "broken", "--config", file, "--out", out), 1, [
      new RegExp(`^${file.replace(/[.]/g, "\\.")}: invalid YAML file: `),
    ]);
  });

  test("refused settings: one line per problem, each naming its stack key, exit 1", async () => {
    const file = join(scratch, "Pulumi.bad.yaml");
    writeFileSync(
      file,
      readFileSync("Pulumi.dev.yaml", "utf8")
        .replace("aws:region: eu-west-1", "aws:region: eu-wset-1")
        .replace(
          "canary-pipeline:canaryWeight: 10\n",
          "canary-pipeline:canaryWeight: 100\n  canary-pipeline:driftSchedule: 0 25 * * *\n",
        ),
    );
    assertRefused(await synth("--stack", "dev", "--config", file, "--out", out), 1, [
      `${file}: Invalid configuration:`,
      '  canary-pipeline:driftSchedule: "0 25 * * *" must be a cron schedule of five fields (UTC) such as 0 6 * * 1-5, or off: its hour field 25 is refused (Constraint error, got value 25 expected range 0-23)',
      '  aws:region: "eu-wset-1" must be an AWS region: did you mean eu-west-1?',
      "  canary-pipeline:canaryWeight: 100 must be a percentage from 1 to 50",
    ]);
  });
});
