// The test jobs (the first environment's deploy workflow, and ci.yml on pull requests) run any
// service's tests: Node.js by default (a job per line of nodeVersions, npm ci, npm test), or, with
// testRuntime none, nothing set up but the service's own testSetup and testCommand (Go, Python,
// Java on the runner's toolchains), optionally once per testMatrix value given through the
// environment. The job only ever reads the repository.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { actions, uses } from "../../../../components/repository/workflows/actions";
import { deployWorkflow } from "../../../../components/repository/workflows/deploy";
import { ciWorkflow } from "../../../../components/repository/workflows/repository";
import type { Job } from "../../../../components/repository/workflows/model";
import { parseStackConfig } from "../../../../config/load";
import { validRaw } from "../../../fixtures/bad-configurations";
import { renderedWorkflows } from "./stack-configs";

const noSecrets = { ghcrPullToken: false, slackWebhook: false };
const config = (raw: Record<string, unknown>) => parseStackConfig({ ...validRaw, ...raw }, "dev", noSecrets);
const testJobOf = (raw: Record<string, unknown>) => deployWorkflow(config(raw)).workflow.jobs.test;
const ciTestOf = (raw: Record<string, unknown>) => ciWorkflow(config(raw)).workflow.jobs.test;
const runs = (job: Job) => job.steps.flatMap((s) => (s.run !== undefined ? [s.run] : []));
const setsUpNode = (job: Job) => job.steps.some((s) => s.uses === uses(actions.setupNode));

describe("the test job", () => {
  test("by default: Node.js on each line of nodeVersions, npm ci, npm test, read-only", () => {
    const job = testJobOf({ nodeVersions: ["22", "24"] });
    assert.equal(job.name, "Test (Node.js ${{ matrix.node }})");
    assert.deepEqual(job.strategy, { "fail-fast": true, matrix: { node: ["22", "24"] } });
    assert.ok(setsUpNode(job));
    assert.deepEqual(runs(job), ["npm ci", "npm test"]);
    assert.deepEqual(job.permissions, { contents: "read" });
    assert.deepEqual(runs(ciTestOf({})), ["npm ci", "npm run lint --if-present", "npm test"]);
  });

  test("Node.js with the service's own setup and command", () => {
    const raw = { testSetup: "npm ci --ignore-scripts", testCommand: "npm run test:unit -- --reporter=dot" };
    assert.deepEqual(runs(testJobOf(raw)), ["npm ci --ignore-scripts", "npm run test:unit -- --reporter=dot"]);
    assert.ok(setsUpNode(testJobOf(raw)));
  });

  test("a Go service: no Node.js, no npm, its own setup and command, one run", () => {
    const raw = { testRuntime: "none", testSetup: "go mod download", testCommand: "go test ./..." };
    for (const job of [testJobOf(raw), ciTestOf(raw)]) {
      assert.equal(job.name, "Test");
      assert.equal(job.strategy, undefined);
      assert.ok(!setsUpNode(job), "no setup-node");
      assert.deepEqual(runs(job), ["go mod download", "go test ./..."]);
      assert.equal(job.steps[0].uses, uses(actions.checkout));
      assert.deepEqual(job.permissions, { contents: "read" });
    }
    // Without a setup command: the checkout and the tests.
    assert.deepEqual(runs(testJobOf({ testRuntime: "none", testCommand: "mvn -B verify" })), ["mvn -B verify"]);
  });

  test("a Python service on a matrix: each value reaches the commands through TEST_MATRIX, never inside run:", () => {
    const job = testJobOf({
      testRuntime: "none",
      testMatrix: ["3.12", "3.13"],
      testSetup: 'uv python install "$TEST_MATRIX" && uv sync --python "$TEST_MATRIX"',
      testCommand: 'uv run --python "$TEST_MATRIX" pytest',
    });
    assert.equal(job.name, "Test (${{ matrix.value }})");
    assert.deepEqual(job.strategy, { "fail-fast": true, matrix: { value: ["3.12", "3.13"] } });
    for (const step of job.steps.filter((s) => s.run !== undefined)) {
      assert.deepEqual(step.env, { TEST_MATRIX: "${{ matrix.value }}" });
      assert.doesNotMatch(step.run!, /\$\{\{/);
    }
  });

  test("the rendered workflows of a non-Node service mention no npm and no Node.js in their test jobs", () => {
    const go = config({ testRuntime: "none", testCommand: "go test ./...", manageRepoWorkflows: true });
    for (const { path, workflow } of renderedWorkflows(go).filter((w) => w.workflow.jobs.test !== undefined)) {
      const text = JSON.stringify(workflow.jobs.test);
      assert.doesNotMatch(text, /npm|setup-node/, path);
      assert.match(text, /go test \.\/\.\.\./, path);
    }
  });
});
