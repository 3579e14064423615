// What `pulumi up` would do with a deployed stack's resources, given a new render: which it keeps
// (found by URN or by an alias), which it deletes and which it creates. Moving a resource into or
// out of a component, or renaming it, changes its URN; only an alias keeps its identity. Modelled on
// the engine's step generator (pulumi/pulumi pkg/resource/deploy/step_generator.go:
// generateAliases, collapseAliasToUrn, inheritedChildAlias), so that a refactor of the components
// can be proven not to replace anything before any stack runs it.
import type { RegisteredAlias, RegisteredResource } from "../testing/mock-engine";
import { createUrn, isRootStack, urnParts as parts } from "../testing/urn";

interface Continuity {
  /** New URN → the old URN it takes over, for each resource found through an alias. */
  readonly aliased: ReadonlyMap<string, string>;
  /** Old URNs no new resource claims: the engine deletes them. */
  readonly deleted: string[];
  /** New URNs that match no old resource: the engine creates them. */
  readonly created: string[];
  /** Old URNs claimed by more than one new resource: the engine refuses the update. */
  readonly claimedTwice: string[];
}

export function continuity(oldUrns: readonly string[], resources: readonly RegisteredResource[]): Continuity {
  const olds = new Set(oldUrns);
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  // The old URN each resource was found under when that was an alias (the engine's sg.aliases):
  // a child's inherited alias starts from it.
  const matched = new Map<string, string>();
  const claims = new Map<string, string[]>();
  const done = new Set<string>();

  const collapse = (r: RegisteredResource, alias: RegisteredAlias): string => {
    if ("urn" in alias) return alias.urn;
    const own = parts(r.urn);
    let parent = alias.parentUrn ?? r.parent ?? "";
    if (alias.parentUrn !== undefined) parent = matched.get(parent) ?? parent;
    if (alias.noParent || (parent !== "" && isRootStack(parent))) parent = "";
    return createUrn(
      alias.name ?? r.name,
      alias.type ?? r.type,
      parent,
      alias.project ?? own.project,
      alias.stack ?? own.stack,
    );
  };

  // A child named `${parent}-…` is renamed along with its parent.
  const inheritedChildAlias = (
    r: RegisteredResource,
    childType: string,
    childName: string,
    parentName: string,
    parentAlias: string,
  ): string => {
    const own = parts(r.urn);
    const name = childName.startsWith(parentName)
      ? parts(parentAlias).name + childName.slice(parentName.length)
      : childName;
    return createUrn(name, childType, parentAlias, own.project, own.stack);
  };

  const aliasesOf = (r: RegisteredResource): string[] => {
    const result = new Set((r.aliases ?? []).map((a) => collapse(r, a)));
    const parentAlias = r.parent !== undefined ? matched.get(r.parent) : undefined;
    if (r.parent !== undefined && parentAlias !== undefined) {
      const parentName = parts(r.parent).name;
      result.add(inheritedChildAlias(r, r.type, r.name, parentName, parentAlias));
      for (const alias of r.aliases ?? []) {
        const own = parts(collapse(r, alias));
        result.add(inheritedChildAlias(r, own.type, own.name, parentName, parentAlias));
      }
    }
    return [...result];
  };

  // Parents first, as the engine sees them: a child's aliases depend on how its parent was found.
  const resolve = (r: RegisteredResource) => {
    if (done.has(r.urn)) return;
    done.add(r.urn);
    const parent = r.parent !== undefined ? byUrn.get(r.parent) : undefined;
    if (parent) resolve(parent);
    // The URN first, then the aliases: the engine's order.
    const found = [r.urn, ...aliasesOf(r)].find((u) => olds.has(u));
    if (found === undefined) return;
    claims.set(found, [...(claims.get(found) ?? []), r.urn]);
    if (found !== r.urn) matched.set(r.urn, found);
  };
  for (const r of resources) resolve(r);

  return {
    aliased: matched,
    deleted: oldUrns.filter((u) => !claims.has(u)),
    created: resources.filter((r) => !olds.has(r.urn) && !matched.has(r.urn)).map((r) => r.urn),
    claimedTwice: [...claims].filter(([, by]) => by.length > 1).map(([old]) => old),
  };
}
