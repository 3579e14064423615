// The workflow security rules (OpenSSF Scorecard's checks, zizmor's audits), asserted on every file
// every configuration renders, as committed (the YAML read back).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseDocument, visit } from "yaml";
import { actions, uses } from "../../../../components/repository/workflows/actions";
import { allConfigs, renderedWorkflows, type ParsedWorkflow } from "./stack-configs";

const pinned = new Set(Object.values(actions).map(uses));
const writeScopes = (p: ParsedWorkflow["permissions"]) =>
  typeof p === "string"
    ? p === "read-all"
      ? []
      : [p]
    : Object.entries(p ?? {})
        .filter(([, level]) => level === "write")
        .map(([scope]) => scope);

/** The problems of one workflow under the rules; empty when it complies. */
export function securityProblems(content: string, workflow: ParsedWorkflow): string[] {
  const problems: string[] = [];
  if (workflow.permissions === undefined) problems.push("no top-level permissions (the default token may write)");
  else if (writeScopes(workflow.permissions).length > 0)
    problems.push(`top-level permissions grant ${writeScopes(workflow.permissions).join(", ")}`);
  for (const trigger of ["pull_request_target", "workflow_run"])
    if (trigger in workflow.on) problems.push(`triggered by ${trigger}`);
  for (const [id, job] of Object.entries(workflow.jobs)) {
    if (job.permissions === undefined) problems.push(`${id}: no job permissions`);
    for (const step of job.steps) {
      const where = `${id}/${step.name ?? "?"}`;
      if (step.uses !== undefined && !step.uses.startsWith("./")) {
        if (!/@[0-9a-f]{40}$/.test(step.uses)) problems.push(`${where}: ${step.uses} is not pinned by a full SHA`);
        else if (!pinned.has(step.uses)) problems.push(`${where}: ${step.uses} is not a pin of actions.ts`);
      }
      if (step.uses?.startsWith(`${actions.checkout.repository}@`) && step.with?.["persist-credentials"] !== false) {
        problems.push(`${where}: checkout without persist-credentials: false`);
      }
      // Stricter than the rule: no expression at all inside run:, everything goes through env.
      if (step.run !== undefined && /\$\{\{/.test(step.run)) problems.push(`${where}: an expression inside run:`);
    }
  }
  if (content !== "") {
    visit(parseDocument(content), {
      Alias: () => {
        problems.push("an alias");
      },
      Node: (_key, node) => {
        if (node.anchor) problems.push(`an anchor &${node.anchor}`);
      },
    });
  }
  return problems;
}

for (const [label, config] of Object.entries(allConfigs())) {
  describe(`security rules: ${label}`, () => {
    for (const { path, content, workflow } of renderedWorkflows(config)) {
      test(path, () => assert.deepEqual(securityProblems(content, workflow), []));
    }
  });
}

describe("the rules can fail", () => {
  const bad: ParsedWorkflow = {
    name: "bad",
    on: { pull_request_target: {} },
    permissions: { contents: "write" },
    jobs: {
      j: {
        permissions: { contents: "read" },
        steps: [
          { name: "tag", uses: "actions/checkout@v6" },
          { name: "unknown sha", uses: `actions/checkout@${"a".repeat(40)}`, with: { "persist-credentials": false } },
          { name: "inline", run: "echo ${{ github.event.pull_request.title }}" },
        ],
      },
    },
  };
  test("each broken rule is named", () => {
    const problems = securityProblems("a: &x 1\nb: *x\n", bad);
    for (const expected of [
      /an alias/,
      /an anchor/,
      /contents/,
      /pull_request_target/,
      /not pinned by a full SHA/,
      /not a pin of actions.ts/,
      /persist-credentials/,
      /expression inside run/,
    ]) {
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${String(expected)} in ${problems.join("; ")}`,
      );
    }
  });
});

test("only the jobs that push to GHCR write packages (the build's image, the promotion's attestation); id-token only where a role is assumed or cosign signs", () => {
  for (const config of Object.values(allConfigs())) {
    for (const { path, workflow } of renderedWorkflows(config)) {
      for (const [id, job] of Object.entries(workflow.jobs)) {
        const steps = job.steps.map((s) => s.uses ?? s.run ?? "");
        const assumes = steps.some((s) => s.startsWith(`${actions.awsCredentials.repository}@`));
        const signs = steps.some((s) => /cosign (sign|attest) /.test(s));
        assert.equal(job.permissions?.["id-token"] === "write", assumes || signs, `${path} ${id}: id-token`);
        const pushes = path.includes("deploy-") && (id === "build" || steps.some((s) => /cosign attest /.test(s)));
        assert.equal(job.permissions?.packages === "write", pushes, `${path} ${id}: packages`);
        assert.equal(
          job.permissions?.["security-events"] === "write",
          path.endsWith("ci.yml") && id === "image",
          `${path} ${id}: security-events`,
        );
      }
    }
  }
});
