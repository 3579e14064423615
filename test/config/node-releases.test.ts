// The Node.js end-of-life dates come from the node-releases package, not from a table kept by
// hand: each line's date is the package's, and support is judged on reviewedOn, not the clock.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { nodeEndOfLife, nodeLineProblem, reviewedOn, supportedNodeLines } from "../../config/node-releases";

// The package's schedule, read from its file here rather than through the module under test.
const schedule = JSON.parse(
  readFileSync(require.resolve("node-releases/data/release-schedule/release-schedule.json"), "utf8"),
) as Record<string, { start: string; lts?: string; end: string }>;
const majors = Object.keys(schedule)
  .filter((name) => /^v\d+$/.test(name))
  .map((name) => name.slice(1));

test("every major line's end of life is the package's, odd lines included", () => {
  assert.deepEqual(nodeEndOfLife, Object.fromEntries(majors.map((m) => [m, schedule[`v${m}`].end])));
  assert.equal(nodeEndOfLife["22"], "2027-04-30");
  for (const odd of ["21", "23", "25"]) assert.equal(nodeEndOfLife[odd], schedule[`v${odd}`].end, odd);
  assert.ok(!Object.keys(nodeEndOfLife).some((line) => line.includes(".")), "the 0.x lines are left out");
});

test("the supported lines are those released and not past their end on reviewedOn", () => {
  const day = new Date(reviewedOn);
  const expected = majors.filter(
    (m) => new Date(schedule[`v${m}`].start) <= day && new Date(schedule[`v${m}`].end) >= day,
  );
  assert.deepEqual(supportedNodeLines, expected);
  assert.deepEqual(supportedNodeLines, ["22", "24", "26"]);
  for (const line of supportedNodeLines) assert.equal(nodeLineProblem(line), undefined, line);
});

test("a line past its end is refused with the package's date", () => {
  assert.equal(nodeLineProblem("20"), `Node.js 20 reached end of life on ${schedule.v20.end}: use 22, 24, 26`);
  assert.equal(nodeLineProblem("25"), `Node.js 25 reached end of life on ${schedule.v25.end}: use 22, 24, 26`);
  assert.equal(nodeLineProblem("25", new Date("2026-05-01")), undefined, "an odd line is accepted before its end");
});

test("support is judged on the day given, reviewedOn by default, not on the clock", () => {
  assert.equal(
    nodeLineProblem("22", new Date("2027-05-01")),
    `Node.js 22 reached end of life on ${schedule.v22.end}: use 22, 24, 26`,
  );
  assert.equal(nodeLineProblem("22", new Date(schedule.v22.end)), undefined, "the last day still counts");
});

test("a line newer than the data is accepted; a number that never was a line, or no number, is not", () => {
  const newest = Math.max(...majors.map(Number));
  assert.equal(nodeLineProblem(String(newest + 1)), undefined);
  assert.equal(nodeLineProblem("3"), "3 is not a Node.js release line");
  assert.equal(nodeLineProblem("lts/*"), '"lts/*" must be a Node.js major version such as 24');
});
