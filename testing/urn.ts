// URNs as the engine writes them: `urn:pulumi:<stack>::<project>::<qualified type>::<name>`, the
// type qualified by the parent's qualified type except under the root stack (pulumi/pulumi
// sdk/go/common/resource/urn.go, CreateURN; pkg/resource/deploy/deployment.go, generateURN).

/** The type of the root stack resource every program registers first. */
export const rootStackType = "pulumi:pulumi:Stack";

export interface UrnParts {
  readonly stack: string;
  readonly project: string;
  /** The type with its ancestors' types: `parent$child`. */
  readonly qualifiedType: string;
  /** The resource's own type: the last segment of the qualified type. */
  readonly type: string;
  readonly name: string;
}

export function urnParts(urn: string): UrnParts {
  const [prefix, project, qualifiedType, ...name] = urn.split("::");
  return {
    stack: prefix.replace(/^urn:pulumi:/, ""),
    project,
    qualifiedType,
    type: qualifiedType.split("$").pop()!,
    name: name.join("::"),
  };
}

export const isRootStack = (urn: string) => urnParts(urn).qualifiedType === rootStackType;

/** The URN of a resource named `name` of type `type` under `parent` (a URN, or "" for none). */
export function createUrn(name: string, type: string, parent: string, project: string, stack: string): string {
  const qualified = parent !== "" && !isRootStack(parent) ? `${urnParts(parent).qualifiedType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}
