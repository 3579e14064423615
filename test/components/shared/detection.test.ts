// The detection chances docs/pipeline.md states are the ones detectionChance computes for the
// request counts of the defaults and of the example stacks: the docs cannot go stale.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parse } from "yaml";
import {
  bakeCanaryRequests,
  detectionChance,
  formatChance,
  smokeCanaryRequests,
} from "../../../components/shared/detection";
import { configSchema, projectName } from "../../../config/schema";

const defaults = configSchema.parse({ githubOwner: "a", githubRepository: "b", appName: "c", initialImage: "x/y:1" });
const stackFile = (stack: string) =>
  (parse(readFileSync(`Pulumi.${stack}.yaml`, "utf8")) as { config: Record<string, unknown> }).config;
const bakeOf = (stack: string) => stackFile(stack)[`${projectName}:canaryBakeSeconds`] as number;
/** The example stacks' smoke paths (/healthz and /v1/orders?limit=1); the default is [healthPath], one. */
const paths = (stackFile("dev")[`${projectName}:smokePaths`] as string[]).length;
const failureRates = [0.01, 0.05, 0.1];

/** The table's rows: what the canary is judged by, and the requests that surely reach it. */
function rows(): [string, number][] {
  const smoke = smokeCanaryRequests(defaults.smokeRequests, paths);
  return [
    ["smoke test before smokeRequests (5 per path)", smokeCanaryRequests(5, paths)],
    [`smoke test (smokeRequests ${defaults.smokeRequests})`, smoke],
    [
      `smoke test + bake window (canaryBakeSeconds ${defaults.canaryBakeSeconds}, the default)`,
      smoke + bakeCanaryRequests(defaults.canaryBakeSeconds, paths),
    ],
    [`smoke test + dev's bake window (${bakeOf("dev")} s)`, smoke + bakeCanaryRequests(bakeOf("dev"), paths)],
    [`smoke test + prod's bake window (${bakeOf("prod")} s)`, smoke + bakeCanaryRequests(bakeOf("prod"), paths)],
  ];
}

function detectionTable(): string[] {
  return [
    `| judged by (${paths} smoke paths) | canary requests | ${failureRates.map((p) => `fails ${p * 100}%`).join(" | ")} |`,
    `|---|---|${failureRates.map(() => "---|").join("")}`,
    ...rows().map(
      ([what, n]) => `| ${what} | ${n} | ${failureRates.map((p) => formatChance(detectionChance(p, n))).join(" | ")} |`,
    ),
  ];
}

test("the chance is 1 − (1 − p)^n: the issue's numbers for 10 requests", () => {
  assert.equal(formatChance(detectionChance(0.05, 10)), "40.1%", "a canary failing 5% passes 60% of the time");
  assert.equal(formatChance(1 - detectionChance(0.01, 10)), "90.4%", "a canary failing 1% passes 90% of the time");
  assert.equal(detectionChance(0, 100), 0);
  assert.equal(detectionChance(1, 1), 1);
});

test("the bake window probes once per path and round; no bake, no probes", () => {
  assert.equal(bakeCanaryRequests(300, 2), 20);
  assert.equal(bakeCanaryRequests(120, 1), 4);
  assert.equal(bakeCanaryRequests(20, 1), 1, "a window shorter than the interval still probes once");
  assert.equal(bakeCanaryRequests(0, 2), 0);
});

test("docs/pipeline.md's detection table is the one computed here", () => {
  const doc = readFileSync("docs/pipeline.md", "utf8").split("\n");
  const section = doc.indexOf("## How likely a bad canary is caught");
  assert.ok(section > 0, "the section exists");
  const start = doc.findIndex((line, i) => i > section && line.startsWith("| judged by"));
  const table = doc.slice(
    start,
    doc.findIndex((line, i) => i > start && !line.startsWith("|")),
  );
  assert.deepEqual(table, detectionTable(), `expected:\n${detectionTable().join("\n")}`);
});
