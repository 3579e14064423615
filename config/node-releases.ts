// Node.js release lines and their end of life (nodejs/Release schedule). The test matrix runs
// only lines that still get security fixes; the default is every such line.

/** End-of-life dates of the release lines this version knows. */
export const nodeEndOfLife: Readonly<Record<string, string>> = {
  "18": "2025-04-30",
  "20": "2026-04-30",
  "21": "2024-06-01",
  "22": "2027-04-30",
  "23": "2025-06-01",
  "24": "2028-04-30",
  "25": "2026-06-01",
  "26": "2029-04-30",
};

/**
 * The day this table was last reviewed. Support is judged on this day rather than the clock's, so
 * a render is the same whenever it runs; review the table (and this date) with each new line.
 */
export const reviewedOn = "2026-11-22";

/** The lines supported on reviewedOn: 22 (maintenance), 24 and 26 (LTS). */
export const supportedNodeLines = ["22", "24", "26"] as const;

/** Why `version` cannot be in the test matrix, or undefined when it can. */
export function nodeLineProblem(version: string, today = new Date(reviewedOn)): string | undefined {
  if (!/^\d+$/.test(version)) return `${JSON.stringify(version)} must be a Node.js major version such as 24`;
  const endOfLife = nodeEndOfLife[version];
  if (endOfLife === undefined) {
    const newest = Math.max(...Object.keys(nodeEndOfLife).map(Number));
    return Number(version) > newest ? undefined : `${version} is not a Node.js release line`;
  }
  if (new Date(endOfLife) < today) return `Node.js ${version} reached end of life on ${endOfLife}: use ${supportedNodeLines.join(", ")}`;
  return undefined;
}
