// npm run control-plane -- up | down | test [FILE...]
//   up    starts the local control plane (test-control-plane/control-plane.ts) and writes out/cluster/kubeconfig
//   down  stops every process it started and removes the cluster's state
//   test  up, the real tier's tests (test/cluster/, or the files named), then down, pass or fail
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { adminKubeconfig, clusterDown, clusterUp, repoRoot } from "./control-plane";

function realTierFiles(): string[] {
  const dir = path.join(repoRoot, "test", "cluster");
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".test.ts"))
    .sort()
    .map((f) => path.join("test", "cluster", f));
}

function main(command: string | undefined, args: string[]): number {
  if (command === "up") {
    clusterUp();
    console.log(`cluster up: admin kubeconfig in ${path.relative(repoRoot, adminKubeconfig)}`);
    return 0;
  }
  if (command === "down") {
    clusterDown();
    console.log("cluster down: nothing left running");
    return 0;
  }
  if (command === "test") {
    clusterUp();
    try {
      const files = args.length > 0 ? args : realTierFiles();
      const run = spawnSync(
        process.execPath,
        ["--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", ...files],
        { cwd: repoRoot, stdio: "inherit" },
      );
      return run.status ?? 1;
    } finally {
      clusterDown();
    }
  }
  console.error("usage: npm run control-plane -- up | down | test [FILE...]");
  return 2;
}

try {
  process.exitCode = main(process.argv[2], process.argv.slice(3));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
