// actionlint, the real binary with shellcheck and pyflakes, finds nothing in any generated workflow
// of any configuration, and does report broken ones, a shellcheck finding among them: the check
// can fail.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
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
      "      - run: echo \"${{ github.event.pull_request.title }}\"",
      "",
    ].join("\n");
    const findings = lintWorkflow(".github/workflows/broken.yml", broken);
    const kinds = new Set(findings.map((f) => f.kind));
    for (const kind of ["expression", "job-needs", "permissions"]) assert.ok(kinds.has(kind), `${kind} in ${findings.map(formatFinding).join("\n")}`);
    assert.ok(findings.every((f) => f.path === ".github/workflows/broken.yml" && f.line > 0));
  });
  test("a YAML syntax error", () => {
    assert.ok(lintWorkflow(".github/workflows/bad.yml", "on: push\njobs:\n  a: [\n").length > 0);
  });
  test("shellcheck runs on the scripts: an unused variable and an unquoted expansion", () => {
    const [deploy] = renderedWorkflows(prodLike()).filter((w) => w.path.includes("deploy-"));
    const broken = deploy.content.replace("kubectl scale deployment/", "unused=1; kubectl scale deployment/$DIGEST");
    const findings = lintWorkflow(deploy.path, broken).filter((f) => f.kind === "shellcheck");
    assert.ok(findings.some((f) => /SC2034/.test(f.message)), findings.map(formatFinding).join("\n"));
  });
  test("an unknown job in needs, in a generated workflow", () => {
    const [deploy] = renderedWorkflows(prodLike()).filter((w) => w.path.includes("deploy-"));
    const findings = lintWorkflow(deploy.path, deploy.content.replace("needs:\n      - canary", "needs:\n      - canry"));
    assert.ok(findings.some((f) => /canry/.test(f.message)), findings.map(formatFinding).join("\n"));
  });
});
