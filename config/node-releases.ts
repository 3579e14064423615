// Node.js release lines and their end of life, read from the node-releases package (its copy of
// the nodejs/Release schedule) rather than kept by hand. The test matrix runs only lines that
// still get security fixes; the default is every such line.
import schedule from "node-releases/data/release-schedule/release-schedule.json";

/** One line of the schedule: dates as YYYY-MM-DD; odd lines have no `lts`. */
interface ReleaseLine {
  readonly start: string;
  readonly lts?: string;
  readonly maintenance?: string;
  readonly end: string;
}

// Typed without a cast: a package update that drops a line's start or end fails to compile.
const releaseSchedule: Readonly<Record<string, ReleaseLine>> = schedule;

// Major lines only: the schedule also holds the 0.x lines ("v0.12"), which no matrix names.
const lines: readonly (ReleaseLine & { readonly major: string })[] = Object.entries(releaseSchedule).flatMap(
  ([name, line]) => {
    const major = /^v(\d+)$/.exec(name)?.[1];
    return major === undefined ? [] : [{ ...line, major }];
  },
);

/** End-of-life dates of the release lines the package knows ("22" → "2027-04-30"), odd lines included. */
export const nodeEndOfLife: Readonly<Record<string, string>> = Object.fromEntries(lines.map((l) => [l.major, l.end]));

/**
 * The day support is judged on, rather than the clock's, so a render is the same whenever it runs.
 * Review it (and the node-releases version in the lockfile) with each new line.
 */
export const reviewedOn = "2026-11-22";

/**
 * The lines supported on reviewedOn: released (started on or before it) and not past their end,
 * which is nodeLineProblem's rule too, so the default matrix holds only lines it accepts. An odd
 * line counts while it lasts, as it gets security fixes until its end. For 2026-11-22 the data
 * gives 22 (maintenance), 24 (maintenance since 2026-10-20) and 26 (LTS since 2026-10-28), the
 * lines the hand-kept table named; 25 ended on 2026-06-01 and 27 starts on 2027-04-22.
 */
export const supportedNodeLines: readonly string[] = lines
  .filter((l) => new Date(l.start) <= new Date(reviewedOn) && new Date(l.end) >= new Date(reviewedOn))
  .map((l) => l.major);

/**
 * Why `version` cannot be in the test matrix, or undefined when it can. A line newer than the data
 * knows is accepted, as is one the data announces before its start.
 */
export function nodeLineProblem(version: string, today = new Date(reviewedOn)): string | undefined {
  if (!/^\d+$/.test(version)) return `${JSON.stringify(version)} must be a Node.js major version such as 24`;
  const endOfLife = nodeEndOfLife[version];
  if (endOfLife === undefined) {
    const newest = Math.max(...Object.keys(nodeEndOfLife).map(Number));
    return Number(version) > newest ? undefined : `${version} is not a Node.js release line`;
  }
  if (new Date(endOfLife) < today)
    return `Node.js ${version} reached end of life on ${endOfLife}: use ${supportedNodeLines.join(", ")}`;
  return undefined;
}
