// The dependency depth of a rendered stack: the longest chain of resources the engine must create
// one after another, because each waits for the one before (its `dependencies`: from its inputs,
// or from dependsOn alone). Components create nothing: a chain counts custom resources only.
// Linear in resources + dependencies (a memoised walk of the DAG).
import type { RegisteredResource } from "../testing/mock-engine";
import { groupBy, topLevelOf } from "../synth/top-level";

export interface Depth {
  /** Longest chain of custom resources, counting every dependency. */
  readonly depth: number;
  /** The same, counting only the dependencies an input carries (what the data requires). */
  readonly dataDepth: number;
  /** One longest chain, by resource name. */
  readonly chain: string[];
}

type Edges = (r: RegisteredResource) => readonly string[];

function longest(resources: readonly RegisteredResource[], edges: Edges): { depth: number; chain: string[] } {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const memo = new Map<string, { depth: number; chain: string[] }>();
  const visit = (r: RegisteredResource): { depth: number; chain: string[] } => {
    const known = memo.get(r.urn);
    if (known) return known;
    let best: { depth: number; chain: string[] } = { depth: 0, chain: [] };
    for (const urn of edges(r)) {
      const d = byUrn.get(urn);
      if (d === undefined) continue;
      const sub = visit(d);
      if (sub.depth > best.depth) best = sub;
    }
    const own = r.custom ? { depth: best.depth + 1, chain: [...best.chain, r.name] } : best;
    memo.set(r.urn, own);
    return own;
  };
  let best: { depth: number; chain: string[] } = { depth: 0, chain: [] };
  for (const r of resources) {
    const d = visit(r);
    if (d.depth > best.depth) best = d;
  }
  return best;
}

const dataEdges: Edges = (r) => {
  const orderOnly = new Set(r.orderOnly ?? []);
  return r.dependencies.filter((d) => !orderOnly.has(d));
};

/** The depth of a set of resources (edges to resources outside the set are ignored). */
export function dependencyDepth(resources: readonly RegisteredResource[]): Depth {
  const all = longest(resources, (r) => r.dependencies);
  return { depth: all.depth, dataDepth: longest(resources, dataEdges).depth, chain: all.chain };
}

/** Each top-level component's resources (a service's CanaryPipeline), by its name. */
export function byTopComponent(resources: readonly RegisteredResource[]): Map<string, RegisteredResource[]> {
  const top = topLevelOf(resources);
  return groupBy(resources, (r) => top(r)?.name);
}

/** The order-only dependencies (dependsOn that no input carries), as `waiter ← waited-for` type pairs with counts. */
export function orderOnlyEdges(resources: readonly RegisteredResource[]): Map<string, number> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const short = (type: string) => type.split(":").pop() ?? type;
  const counts = new Map<string, number>();
  for (const r of resources) {
    for (const urn of r.orderOnly ?? []) {
      const d = byUrn.get(urn);
      if (!d) continue;
      const key = `${short(r.type)} ← ${short(d.type)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}
