// The RBAC side of the operation catalogue: a Role's rules from the operations its holder runs,
// and what a refreshing preview reads of the stack's objects.
import type { ClusterOperation, PolicyRule } from "./cluster-operations";

/**
 * Merges rules that differ only in verbs into one rule each, in a stable order: the Role's rules
 * for a set of operations.
 */
export function rulesFor(operations: readonly ClusterOperation[]): PolicyRule[] {
  const merged = new Map<
    string,
    { apiGroups: string[]; resources: string[]; resourceNames?: string[]; verbs: Set<string> }
  >();
  for (const rule of operations.flatMap((o) => o.rules)) {
    for (const resource of rule.resources) {
      const names = rule.resourceNames ? [...rule.resourceNames].sort() : undefined;
      const key = JSON.stringify([rule.apiGroups, resource, names]);
      const entry = merged.get(key) ?? {
        apiGroups: [...rule.apiGroups],
        resources: [resource],
        ...(names ? { resourceNames: names } : {}),
        verbs: new Set<string>(),
      };
      rule.verbs.forEach((v) => entry.verbs.add(v));
      merged.set(key, entry);
    }
  }
  return [...merged.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, r]) => ({
      apiGroups: r.apiGroups,
      resources: r.resources,
      verbs: [...r.verbs].sort(),
      ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}),
    }));
}

/** An object the stack declares: its Pulumi type token (`kubernetes:apps/v1:Deployment`) and its name. */
export interface DeclaredObject {
  readonly type: string;
  readonly name: string;
}

/**
 * The API group and resource of a Kubernetes type token. The resource is the kind as Kubernetes
 * pluralises it (apimachinery pkg/api/meta/restmapper.go, UnsafeGuessKindToResource), which is
 * the real name of every built-in kind the stack declares; the real tier reads each by it.
 */
export function apiResourceOf(type: string): { readonly group: string; readonly resource: string } {
  const match = /^kubernetes:([^/]+)\/[^:]+:(\w+)$/.exec(type);
  if (!match) throw new Error(`${type} is not a Kubernetes type token`);
  const [, group, kind] = match;
  const singular = kind.toLowerCase();
  const resource = singular.endsWith("endpoints")
    ? singular
    : singular.endsWith("s")
      ? `${singular}es`
      : singular.endsWith("y")
        ? `${singular.slice(0, -1)}ies`
        : `${singular}s`;
  return { group: group === "core" ? "" : group, resource };
}

/**
 * The kinds whose objects hold credentials: a preview identity may not read them, so a refreshed
 * preview excludes them (`--exclude '**<type>::**'`: the engine neither reads nor diffs an excluded
 * resource, pulumi/pulumi pkg/resource/deploy/deployment_executor.go, refresh).
 */
export const unreadableKinds: readonly string[] = ["kubernetes:core/v1:Secret"];

/**
 * The cluster-scoped kinds the stack declares: a Role cannot grant them, a ClusterRole does (the
 * Namespace aside: a Role in it may get it, the request's namespace being its name).
 */
export const clusterScopedKinds: readonly string[] = [
  "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
  // canaryEngine argo-rollouts: the controller's CRDs, which the stack reads (never declares).
  "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
  "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
  "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
  "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
];

/**
 * What a refreshing `pulumi preview` reads of the stack's objects, one operation per kind: each
 * object by name, as the provider's Read gets it (pulumi-kubernetes provider/pkg/await/await.go,
 * Read: client.Get), and for Deployments the ReplicaSets their readiness check lists
 * (await/deployment.go, deploymentInitAwaiter.Read; a list cannot be restricted by name). Objects
 * of unreadable kinds are left out: the preview excludes them.
 */
export function refreshOperations(objects: readonly DeclaredObject[]): ClusterOperation[] {
  const byType = new Map<string, string[]>();
  for (const o of objects)
    if (!unreadableKinds.includes(o.type)) byType.set(o.type, [...(byType.get(o.type) ?? []), o.name]);
  return [...byType.entries()].map(([type, names]) => {
    const { group, resource } = apiResourceOf(type);
    return {
      description: `read the ${resource} ${names.join(", ")}`,
      command: "pulumi preview --refresh",
      rules: [
        { apiGroups: [group], resources: [resource], verbs: ["get"], resourceNames: [...new Set(names)].sort() },
        ...(type === "kubernetes:apps/v1:Deployment"
          ? [{ apiGroups: ["apps"], resources: ["replicasets"], verbs: ["list"] }]
          : []),
      ],
    };
  });
}
