// npm run verify (verify/cli.ts) as a user runs it: a missing input is one line naming the option
// and the fix, never a stack trace. That the platform example's render, which has no stack file,
// passes every check is in the real tier (test/cluster/actionlint.test.ts): one check runs actionlint.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import platformProgram from "../../examples/platform/index";
import { renderStack, writeRender } from "../../synth/render";

const verify = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "verify/cli.ts", ...args], { encoding: "utf8" });

/** A usage error: exit 2, one line on stderr matching `pattern`, nothing on stdout. */
function assertUsageError(run: ReturnType<typeof verify>, pattern: RegExp) {
  assert.equal(run.status, 2, run.stdout + run.stderr);
  assert.equal(run.stdout, "");
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line, no stack trace:\n${run.stderr}`);
  assert.match(lines[0], pattern);
}

describe("npm run verify on the platform example's render", () => {
  const dir = mkdtempSync(join(tmpdir(), "verify-cli-"));
  const out = join(dir, "platform");
  before(async () =>
    writeRender(
      await renderStack({ stack: "platform", settings: { config: {}, secretKeys: [] }, program: platformProgram }),
      out,
    ),
  );

  test("--out alone: the stack is the render's, and its missing stack file names --config and --program", () => {
    assertUsageError(
      verify("--out", out),
      /^verify: no stack file Pulumi\.platform\.yaml: name it with --config FILE, or, .* name the program with --program FILE \(e\.g\. --program examples\/platform\/index\.ts --stack platform\)$/,
    );
  });

  test("a --stack other than the render's is refused", () => {
    assertUsageError(
      verify("--stack", "dev", "--out", out),
      /^verify: --stack dev: .* holds a render of stack platform; pass --stack platform/,
    );
  });

  test("a missing render, program or stack file, and an unknown option, each name the option and the fix", () => {
    assertUsageError(
      verify("--program", "examples/platform/index.ts", "--stack", "platform", "--out", join(dir, "none")),
      /^verify: .* holds no render \(--out\): run `npm run synth -- --program examples\/platform\/index\.ts --stack platform --out .*` first$/,
    );
    assertUsageError(
      verify("--program", "examples/platform/missing.ts", "--stack", "platform"),
      /^verify: --program examples\/platform\/missing\.ts: no such file$/,
    );
    assertUsageError(
      verify("--config", "Pulumi.missing.yaml", "--out", out),
      /^verify: --config Pulumi\.missing\.yaml: no such file$/,
    );
    assertUsageError(verify("--stak", "dev"), /^verify: Unknown option '--stak' \(usage: npm run verify -- /);
  });

  test("a YAML syntax error in the stack file is one line naming the file and the fix", () => {
    const file = join(dir, "Pulumi.platform.yaml");
    writeFileSync(file, "config:\n  canary-pipeline:replicas: [3\n");
    assertUsageError(
      verify("--stack", "platform", "--out", out, "--config", file),
      new RegExp(
        `^verify: ${file.replace(/[.]/g, "\\.")} is not a readable stack file \\(invalid YAML file: .*\\): fix it or name another with --config FILE$`,
      ),
    );
  });
});

test("npm run verify --help prints the usage and the options, and exits 0", () => {
  const run = verify("--help");
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, "");
  assert.match(
    run.stdout,
    /^usage: npm run verify -- \[--stack NAME\] \[--config FILE\] \[--out DIR\] \[--program FILE\]\n/,
  );
  assert.match(run.stdout, /--help +print this and exit/);
});
