// Cluster rights: every API request the scripts (and the refreshed previews, preview-reads.ts) make
// must be granted by the Role they act under, and every permission the Role grants must be used by
// some request. Both directions are findings.
import type { PolicyRule } from "../components/shared/cluster-operations";
import { apiRequests, kubectlCommands, type ApiRequest } from "./kubectl";

/** A Role's rule, as rendered (the shape only is shared with the generator, none of its logic). */
export type RoleRule = PolicyRule;

interface RightsFindings {
  /** Requests the Role does not grant. */
  readonly missing: string[];
  /** Grants no request uses (`group/resource verb name`, name `*` when unrestricted). */
  readonly unused: string[];
  /** kubectl commands the verifier could not read. */
  readonly unknown: string[];
  /** Requests to another namespace than the Role's. */
  readonly foreignNamespace: string[];
}

const show = (r: ApiRequest) => `${r.apiGroup || "core"}/${r.resource} ${r.verb}${r.name ? ` ${r.name}` : ""}`;

/** Whether a rule grants a request (RBAC: resourceNames restrict; list without a name needs none). */
function grants(rule: RoleRule, r: ApiRequest): boolean {
  if (!rule.apiGroups.includes(r.apiGroup) || !rule.resources.includes(r.resource) || !rule.verbs.includes(r.verb))
    return false;
  if (!rule.resourceNames || rule.resourceNames.length === 0) return true;
  return r.name !== undefined && rule.resourceNames.includes(r.name);
}

/** The API requests of every kubectl command in the scripts; unreadable commands are listed. */
export function scriptRequests(scripts: readonly string[]): { requests: ApiRequest[]; unknown: string[] } {
  const requests: ApiRequest[] = [];
  const unknown: string[] = [];
  for (const script of scripts) {
    const { commands, files } = kubectlCommands(script);
    for (const command of commands) {
      try {
        requests.push(...apiRequests(command, files));
      } catch (error) {
        unknown.push((error as Error).message);
      }
    }
  }
  return { requests, unknown };
}

/** Compares what the scripts (and `other` requests) request with what the Role grants, in its namespace (a ClusterRole: undefined, cluster-scoped requests). */
export function checkClusterRights(
  scripts: readonly string[],
  rules: readonly RoleRule[],
  namespace: string | undefined,
  other: readonly ApiRequest[] = [],
): RightsFindings {
  const fromScripts = scriptRequests(scripts);
  const requests = [...fromScripts.requests, ...other];
  const unknown = fromScripts.unknown;
  const missing = [...new Set(requests.filter((r) => !rules.some((rule) => grants(rule, r))).map(show))];
  const foreignNamespace = [
    ...new Set(
      requests
        .filter((r) => r.namespace !== namespace)
        .map((r) => `${show(r)} in namespace ${r.namespace ?? "(kubeconfig default)"}`),
    ),
  ];
  // A named grant is used by a request for that name; an unrestricted one only by a request
  // that no named grant already covers.
  const coveredByName = (r: ApiRequest) =>
    rules.some((rule) => (rule.resourceNames?.length ?? 0) > 0 && grants(rule, r));
  const unused: string[] = [];
  for (const rule of rules) {
    for (const apiGroup of rule.apiGroups)
      for (const resource of rule.resources)
        for (const verb of rule.verbs) {
          for (const name of rule.resourceNames?.length ? rule.resourceNames : [undefined]) {
            const same = (r: ApiRequest) => r.apiGroup === apiGroup && r.resource === resource && r.verb === verb;
            const used = requests.some((r) => same(r) && (name !== undefined ? r.name === name : !coveredByName(r)));
            if (!used) unused.push(show({ apiGroup, resource, verb, name: name ?? "*" }));
          }
        }
  }
  return { missing, unused, unknown, foreignNamespace };
}
