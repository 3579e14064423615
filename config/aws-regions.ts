// The AWS regions a stack may name: the list @pulumi/aws itself declares (its `Region` enum, "any
// valid Amazon region that may be targeted with deployments"), so a region that does not exist
// (eu-wset-1) is refused by name instead of failing later as an unreachable endpoint. Imports
// only the provider package's enums module, not the provider.
import { Region } from "@pulumi/aws/types/enums";

/** Every region @pulumi/aws knows, sorted. */
export const awsRegions: readonly string[] = [...new Set<string>(Object.values(Region))].sort();

/** Edits (insert, delete, replace, swap two neighbours) between two strings: optimal string alignment. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The one region within two edits of `name` (eu-wset-1: eu-west-1), or undefined when none or several are. */
export function nearestRegion(name: string): string | undefined {
  const distances = awsRegions.map((region) => [region, editDistance(name.toLowerCase(), region)] as const);
  const best = Math.min(...distances.map(([, d]) => d));
  const closest = distances.filter(([, d]) => d === best);
  return best <= 2 && closest.length === 1 ? closest[0][0] : undefined;
}

/** Why `name` is not an AWS region (with the nearest one when it looks misspelt), or undefined. */
export function regionProblem(name: string): string | undefined {
  if (awsRegions.includes(name)) return undefined;
  const nearest = nearestRegion(name);
  return nearest !== undefined
    ? `must be an AWS region: did you mean ${nearest}?`
    : "must be an AWS region such as eu-west-1";
}
