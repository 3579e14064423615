// The first environment's test job: the repository's own tests on each Node.js line it supports.
import type { Job } from "../model";
import { runner } from "../names";
import { bash, checkout, setupNode } from "../steps";
import type { DeployPlan } from "./plan";

export function testJob({ config }: DeployPlan): Job {
  return {
    name: "Test (Node.js ${{ matrix.node }})",
    "runs-on": runner,
    permissions: { contents: "read" },
    "timeout-minutes": 15,
    strategy: { "fail-fast": true, matrix: { node: config.nodeVersions } },
    steps: [checkout(), setupNode("${{ matrix.node }}"), bash("Install", "npm ci"), bash("Test", "npm test")],
  };
}
