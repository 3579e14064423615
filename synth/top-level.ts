// What a program declares at its top (directly under the root stack), each with everything under
// it: a service's CanaryPipeline, a shared provider. The summary draws a diagram per part, the
// bench measures each service's dependency depth apart.
import type { RegisteredResource } from "../testing/mock-engine";
import { rootStackType } from "../testing/urn";

/** The resource declared at the top that `r` is (or is under); undefined for the root stack. */
export function topLevelOf(
  resources: readonly RegisteredResource[],
): (r: RegisteredResource) => RegisteredResource | undefined {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const known = new Map<string, RegisteredResource | undefined>();
  const top = (r: RegisteredResource): RegisteredResource | undefined => {
    if (known.has(r.urn)) return known.get(r.urn);
    const parent = r.parent !== undefined ? byUrn.get(r.parent) : undefined;
    const result =
      r.type === rootStackType ? undefined : parent === undefined || parent.type === rootStackType ? r : top(parent);
    known.set(r.urn, result);
    return result;
  };
  return top;
}

/** Items grouped by a key, in the order each key first appears. */
export function groupBy<T>(items: Iterable<T>, key: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
