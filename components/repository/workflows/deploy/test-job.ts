// The first environment's test job: the repository's own tests, set up as testRuntime says
// (Node.js on each line of nodeVersions, or nothing, for a service of another toolchain that the
// runner has or testSetup installs), then testSetup and testCommand. ci.yml's test job on pull
// requests runs the same steps (testRun).
import { nodeTestCommands } from "../../../../config/constants";
import type { StackConfig } from "../../../../config/schema";
import type { Job, Step } from "../model";
import { runner } from "../names";
import { bash, checkout, setupNode } from "../steps";
import type { DeployPlan } from "./plan";

/** The settings the test jobs read. */
export type TestConfig = Pick<StackConfig, "nodeVersions" | "testRuntime" | "testSetup" | "testCommand" | "testMatrix">;

/** The environment variable that holds a testRuntime none job's matrix value. */
export const testMatrixVariable = "TEST_MATRIX";

/** A test run: what its job's name adds (the matrix value), its matrix and its steps. */
export interface TestRun {
  readonly label?: string;
  readonly strategy?: Job["strategy"];
  readonly steps: readonly Step[];
}

/** testRuntime none: the checkout, testSetup if any, testCommand, each with `extra` (the matrix value's env). */
const noneSteps = (config: TestConfig, extra: Omit<Step, "name" | "run" | "shell">): Step[] => [
  checkout(),
  ...(config.testSetup === undefined ? [] : [bash("Set up", config.testSetup, extra)]),
  // The schema requires testCommand with none; absent (settings it did not validate), the job fails.
  bash("Test", config.testCommand ?? 'echo "testCommand is required with testRuntime none" >&2; exit 1', extra),
];

/** A test job's run, from the settings with their defaults; `lint`: ci.yml's lint step too (node). */
export function testRun(config: TestConfig, options: { readonly lint?: boolean } = {}): TestRun {
  if (config.testRuntime === "node") {
    return {
      label: "Node.js ${{ matrix.node }}",
      strategy: { "fail-fast": true, matrix: { node: config.nodeVersions } },
      steps: [
        checkout(),
        setupNode("${{ matrix.node }}"),
        bash("Install", config.testSetup ?? nodeTestCommands.setup),
        ...(options.lint ? [bash("Lint", "npm run lint --if-present")] : []),
        bash("Test", config.testCommand ?? nodeTestCommands.command),
      ],
    };
  }
  // testRuntime none: nothing set up but the checkout; a matrix value reaches the commands
  // through the environment, never an expression inside run:.
  const matrix = config.testMatrix;
  if (matrix === undefined) return { steps: noneSteps(config, {}) };
  return {
    label: "${{ matrix.value }}",
    strategy: { "fail-fast": true, matrix: { value: matrix } },
    steps: noneSteps(config, { env: { [testMatrixVariable]: "${{ matrix.value }}" } }),
  };
}

export function testJob({ config }: DeployPlan): Job {
  const run = testRun(config);
  return {
    name: run.label === undefined ? "Test" : `Test (${run.label})`,
    "runs-on": runner,
    permissions: { contents: "read" },
    "timeout-minutes": 15,
    ...(run.strategy !== undefined ? { strategy: run.strategy } : {}),
    steps: run.steps,
  };
}
