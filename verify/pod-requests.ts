// What the stack's own pods request of the API server as their ServiceAccount, read off their
// scripts independently of the catalogue that generated them: each curl command's method and URL
// path, by the API's REST layout (`/api/v1/namespaces/<ns>/<resource>[/<name>[/<subresource>]]`,
// `/apis/<group>/<version>/namespaces/...`) and the authoriser's verbs for its methods (Kubernetes
// docs, "Authorization": request verbs). A pod that mounts a token is checked against the Roles
// its ServiceAccount is bound to. A request this module cannot read is an error, never a skip.
import { boundRoles } from "./cluster-identity";
import type { ApiRequest } from "./kubectl";
import type { KubernetesObject } from "./render-files";

const verbOf: Record<string, string> = { POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" };
const apiPath =
  /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/namespaces\/([^/]+)\/([^/?]+)(?:\/([^/?]+))?(?:\/([^/?]+))?(?:\?.*)?$/;

/** The API requests of the curl commands in a script; the commands it cannot read are listed. */
export function curlRequests(script: string): { requests: ApiRequest[]; unknown: string[] } {
  const requests: ApiRequest[] = [];
  const unknown: string[] = [];
  for (const [command] of script.matchAll(/\bcurl\b[^\n|;)]*/g)) {
    const method = /(?:--request|-X)[ =]([A-Z]+)/.exec(command)?.[1] ?? "GET";
    const path = /"\$[A-Z_]+(\/[^"]*)"/.exec(command)?.[1];
    const m = path === undefined ? null : apiPath.exec(path);
    if (!m || !(method === "GET" || method in verbOf)) {
      unknown.push(command);
      continue;
    }
    const [, group = "", namespace, resource, name, subresource] = m;
    const verb = method === "GET" ? (name === undefined ? "list" : "get") : verbOf[method];
    requests.push({
      apiGroup: group,
      resource: subresource ? `${resource}/${subresource}` : resource,
      verb,
      ...(name !== undefined ? { name } : {}),
      namespace,
    });
  }
  return { requests, unknown };
}

interface PodSpec {
  readonly serviceAccountName?: string;
  readonly automountServiceAccountToken?: boolean;
  readonly containers?: { readonly command?: string[]; readonly args?: string[] }[];
}

/** The pod template of a workload object (CronJob, Job, Deployment) or a Pod's own spec. */
function podSpec(o: KubernetesObject): PodSpec | undefined {
  const spec = o.spec as
    { template?: { spec?: PodSpec }; jobTemplate?: { spec?: { template?: { spec?: PodSpec } } } } | undefined;
  if (o.kind === "Pod") return o.spec;
  return spec?.jobTemplate?.spec?.template?.spec ?? spec?.template?.spec;
}

/**
 * The requests of the render's pods that mount a ServiceAccount token, with the Roles that account
 * is bound to. A pod without a token (automountServiceAccountToken false) requests nothing.
 */
export function podRequests(
  objects: readonly KubernetesObject[],
): { roles: KubernetesObject[]; requests: ApiRequest[]; unknown: string[]; pod: string }[] {
  return objects.flatMap((o) => {
    const pod = podSpec(o);
    if (!pod || pod.automountServiceAccountToken === false) return [];
    const script = (pod.containers ?? []).flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])]).join("\n");
    const account = {
      kind: "ServiceAccount" as const,
      name: pod.serviceAccountName ?? "default",
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    };
    return [
      {
        roles: boundRoles(objects, [account]),
        ...curlRequests(script),
        pod: `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`,
      },
    ];
  });
}
