// actionlint, the real binary with shellcheck and pyflakes, finds nothing in any generated workflow
// of any configuration, and does report broken ones, a shellcheck finding among them: the check
// can fail.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import platformProgram from "../../examples/platform/index";
import { renderStack, writeRender, type Render } from "../../synth/render";
import { lintRender } from "../../verify";
import { formatFinding, lintWorkflow } from "../../verify/actionlint";
import { allConfigs, prodLike, renderedWorkflows } from "../components/repository/workflows/stack-configs";

for (const [label, config] of Object.entries(allConfigs())) {
  describe(`actionlint: ${label}`, () => {
    for (const { path, content } of renderedWorkflows(config)) {
      test(path, () => {
        assert.deepEqual(lintWorkflow(path, content).map(formatFinding), []);
      });
    }
  });
}

describe("actionlint reports broken workflows", () => {
  test("an untrusted expression in run:, an unknown needs and a bad permission", () => {
    const broken = [
      "on: pull_request",
      "permissions:",
      "  contents: writ",
      "jobs:",
      "  a:",
      "    runs-on: ubuntu-24.04",
      "    needs: [missing]",
      "    steps:",
      '      - run: echo "${{ github.event.pull_request.title }}"',
      "",
    ].join("\n");
    const findings = lintWorkflow(".github/workflows/broken.yml", broken);
    const kinds = new Set(findings.map((f) => f.kind));
    for (const kind of ["expression", "job-needs", "permissions"])
      assert.ok(kinds.has(kind), `${kind} in ${findings.map(formatFinding).join("\n")}`);
    assert.ok(findings.every((f) => f.path === ".github/workflows/broken.yml" && f.line > 0));
  });
  test("GitHub's queue: max passes (actionlint 1.7.12 predates it); any other unknown concurrency key is still a finding", () => {
    const [deploy] = renderedWorkflows(prodLike()).filter((w) => w.path.includes("deploy-"));
    assert.match(deploy.content, /^ {2}queue: max$/m);
    assert.deepEqual(lintWorkflow(deploy.path, deploy.content).map(formatFinding), []);
    for (const line of ["  queue: maximum", "  queued: max"]) {
      const findings = lintWorkflow(deploy.path, deploy.content.replace(/^ {2}queue: max$/m, line));
      assert.ok(
        findings.some((f) => f.kind === "syntax-check" && /queue/.test(f.message)),
        `${line}: ${findings.map(formatFinding).join("\n")}`,
      );
    }
  });
  test("a YAML syntax error", () => {
    assert.ok(lintWorkflow(".github/workflows/bad.yml", "on: push\njobs:\n  a: [\n").length > 0);
  });
  test("shellcheck runs on the scripts: an unused variable and an unquoted expansion", () => {
    const [deploy] = renderedWorkflows(prodLike()).filter((w) => w.path.includes("deploy-"));
    const broken = deploy.content.replace("kubectl scale deployment/", "unused=1; kubectl scale deployment/$DIGEST");
    const findings = lintWorkflow(deploy.path, broken).filter((f) => f.kind === "shellcheck");
    assert.ok(
      findings.some((f) => /SC2034/.test(f.message)),
      findings.map(formatFinding).join("\n"),
    );
  });
  test("an unknown job in needs, in a generated workflow", () => {
    const [deploy] = renderedWorkflows(prodLike()).filter((w) => w.path.includes("deploy-"));
    const findings = lintWorkflow(
      deploy.path,
      deploy.content.replace("needs:\n      - canary", "needs:\n      - canry"),
    );
    assert.ok(
      findings.some((f) => /canry/.test(f.message)),
      findings.map(formatFinding).join("\n"),
    );
  });
});

describe("the platform example's render: a workflow per service under repo/<repository>/", () => {
  let render: Render;
  const dir = mkdtempSync(join(tmpdir(), "verify-platform-"));
  before(async () => {
    render = await renderStack({
      stack: "platform",
      settings: { config: {}, secretKeys: [] },
      program: platformProgram,
    });
    writeRender(render, join(dir, "platform"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("actionlint lints each service's workflow where the render holds it", () => {
    assert.deepEqual(lintRender(render.files), []);
    const broken = "repo/search/.github/workflows/deploy-platform.yml";
    const files = new Map(render.files).set(
      broken,
      render.files.get(broken)!.replace("${{ vars.EKS_CLUSTER_NAME }}", "${{ vars.EKS_CLUSTER_NAME }"),
    );
    assert.ok(
      lintRender(files).some((f) => f.startsWith(`${broken}:`)),
      lintRender(files).join("\n"),
    );
  });

  test("npm run verify --program FILE --stack NAME: every check examines the three services and passes", () => {
    const run = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "verify/cli.ts",
        "--program",
        "examples/platform/index.ts",
        "--stack",
        "platform",
        "--out",
        join(dir, "platform"),
      ],
      { encoding: "utf8" },
    );
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /stack platform \(no stack file\)/);
    assert.deepEqual(
      run.stdout.split("\n").filter((l) => /^(ok|FAIL)/.test(l)),
      ["schema", "identity", "clusterRights", "secrets", "names", "actionlint"].map((c) => `ok   ${c}`),
    );
  });
});
