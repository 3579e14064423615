// What a refreshed `pulumi preview` requests of the cluster, read off the render independently of
// the generator: for each Kubernetes object it refreshes, the pulumi-kubernetes provider's Read, a
// GET by name (provider/pkg/await/await.go, Read); for a Deployment also its readiness check's list
// of the ReplicaSets in its namespace (await/deployment.go, deploymentInitAwaiter.Read). The Pods
// and PersistentVolumeClaims that check lists too only explain a failure, and an empty list is
// read as none (the real tier's preview runs without them). An object whose URN matches one of
// the step's `exclude` globs is neither read nor diffed. A kind this module does not know is an
// error, never a skip.
// A custom resource (canaryEngine argo-rollouts: Argo Rollouts' Rollout and AnalysisTemplates) is
// read the same way: Read's client.Get by name (pulumi-kubernetes provider/v4 pkg/await/await.go
// 338-348), then, as no awaiter is registered for its apiVersion/kind (awaiters.go 181-240; the
// `pulumi.com/waitFor` annotation is read by Creation and Update only, await.go 283 and 447), a second Get of the same
// name (await.go 385-397). A `.get` of an object the program does not declare (the controller's
// CustomResourceDefinitions) is read through the same Read with no inputs: its kind comes from the
// type token (provider.go 1827-1843, gvkFromURN 2401-2424; with ReadFromCluster, one Get only: await.go 352-355), its namespace and name from its id
// (`[namespace/]name`, util.go 104-111), and ResourceClient (pkg/clients/clients.go 93-113) scopes
// the Get by the kind's REST mapping: a CustomResourceDefinition, cluster-scoped, is a GET without
// a namespace whatever the id says. A read is recorded in resources.json as an entry with
// `external: true` and its `id` (Pulumi's own checkpoint marks a read resource so: apitype
// ResourceV3.External); a read the render depends on but does not record is a finding
// (unrecordedReads), never a silent pass.
import type { ApiRequest } from "./kubectl";
import { resourceEntries, type RenderFiles, type WorkflowJob } from "./render-files";

/** The API group and resource of each kind a refresh may read (clusterScoped: its REST mapping has no namespace). */
const resourceOf: Record<
  string,
  { readonly apiGroup: string; readonly resource: string; readonly clusterScoped?: boolean }
> = {
  "v1/Namespace": { apiGroup: "", resource: "namespaces" },
  "v1/ServiceAccount": { apiGroup: "", resource: "serviceaccounts" },
  "v1/Service": { apiGroup: "", resource: "services" },
  "v1/Secret": { apiGroup: "", resource: "secrets" },
  "v1/ConfigMap": { apiGroup: "", resource: "configmaps" },
  "apps/v1/Deployment": { apiGroup: "apps", resource: "deployments" },
  "batch/v1/CronJob": { apiGroup: "batch", resource: "cronjobs" },
  "policy/v1/PodDisruptionBudget": { apiGroup: "policy", resource: "poddisruptionbudgets" },
  "networking.k8s.io/v1/NetworkPolicy": { apiGroup: "networking.k8s.io", resource: "networkpolicies" },
  "rbac.authorization.k8s.io/v1/Role": { apiGroup: "rbac.authorization.k8s.io", resource: "roles" },
  "rbac.authorization.k8s.io/v1/RoleBinding": { apiGroup: "rbac.authorization.k8s.io", resource: "rolebindings" },
  // Argo Rollouts' kinds (its CRDs: namespaced, plural rollouts and analysistemplates).
  "argoproj.io/v1alpha1/Rollout": { apiGroup: "argoproj.io", resource: "rollouts" },
  "argoproj.io/v1alpha1/AnalysisTemplate": { apiGroup: "argoproj.io", resource: "analysistemplates" },
  // Cluster-scoped: read without a namespace.
  "rbac.authorization.k8s.io/v1/ClusterRole": {
    apiGroup: "rbac.authorization.k8s.io",
    resource: "clusterroles",
    clusterScoped: true,
  },
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": {
    apiGroup: "rbac.authorization.k8s.io",
    resource: "clusterrolebindings",
    clusterScoped: true,
  },
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy": {
    apiGroup: "admissionregistration.k8s.io",
    resource: "validatingadmissionpolicies",
    clusterScoped: true,
  },
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding": {
    apiGroup: "admissionregistration.k8s.io",
    resource: "validatingadmissionpolicybindings",
    clusterScoped: true,
  },
  "apiextensions.k8s.io/v1/CustomResourceDefinition": {
    apiGroup: "apiextensions.k8s.io",
    resource: "customresourcedefinitions",
    clusterScoped: true,
  },
};

/** The apiVersion and kind a type token names (`kubernetes:core/v1:Service` → v1 Service), as gvkFromURN reads it. */
function typeGvk(type: string): { apiVersion: string; kind: string } | undefined {
  const m = /^kubernetes:([^:/]+)\/([^:]+):([^:]+)$/.exec(type);
  if (!m) return undefined;
  return { apiVersion: m[1] === "core" ? m[2] : `${m[1]}/${m[2]}`, kind: m[3] };
}

/** The type token of a URN (`urn:pulumi:stack::project::parent$type::name` → type). */
const urnType = (urn: string) => urn.split("::")[2]?.split("$").pop() ?? "";

/**
 * The Kubernetes objects the render's resources depend on (dependsOn) that it records neither as
 * declared nor as read: a `.get` the program makes that the render does not show, whose request a
 * refresh makes but this verifier cannot judge (its name is the read's id, which only a recorded
 * read carries).
 */
export function unrecordedReads(files: RenderFiles): string[] {
  const entries = resourceEntries(files);
  const recorded = new Set(entries.map((e) => e.urn));
  const missing = new Set(
    entries
      .flatMap((e) => e.dependencies)
      .filter((urn) => !recorded.has(urn) && urnType(urn).startsWith("kubernetes:")),
  );
  return [...missing].sort();
}

/**
 * A URN glob of the CLI's `--target`/`--exclude`: `**` any text, `*` any text without `:`
 * (pulumi/pulumi pkg/resource/deploy/deployment.go, UrnTargets.getMatcher).
 */
export function urnGlob(glob: string): RegExp {
  const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return new RegExp(
    `^${glob
      .split("**")
      .map((part) => part.split("*").map(quote).join("[^:]*"))
      .join(".*")}$`,
  );
}

type Step = NonNullable<WorkflowJob["steps"]>[number];

/** The job's refreshed previews: pulumi/actions steps with `command: preview` and `refresh: true`. */
export const refreshedPreviews = (job: WorkflowJob): Step[] =>
  (job.steps ?? []).filter(
    (s) =>
      /^pulumi\/actions@/.test(s.uses ?? "") &&
      s.with?.command === "preview" &&
      (s.with.refresh === true || s.with.refresh === "true"),
  );

/** The requests one refreshed preview step makes of the render's cluster objects. */
export function previewRequests(files: RenderFiles, step: Step): ApiRequest[] {
  const exclude = step.with?.exclude;
  const excludes = (typeof exclude === "string" ? exclude.split(/\s+/).filter(Boolean) : []).map(urnGlob);
  const requests: ApiRequest[] = [];
  for (const entry of resourceEntries(files)) {
    if (!entry.type.startsWith("kubernetes:") || excludes.some((glob) => glob.test(entry.urn))) continue;
    const read = entry.external === true;
    if (read && typeof entry.id !== "string")
      throw new Error(`a refresh of ${entry.urn}: the render records a read without its id`);
    // A read has no inputs: its kind is its type token's, its namespace and name its id's.
    const { apiVersion, kind, metadata } = read
      ? {
          ...typeGvk(entry.type),
          metadata: entry.id!.includes("/")
            ? { namespace: entry.id!.split("/")[0], name: entry.id!.split("/")[1] }
            : { name: entry.id },
        }
      : (entry.inputs as {
          apiVersion?: string;
          kind?: string;
          metadata?: { name?: string; namespace?: string };
        });
    const target = resourceOf[`${apiVersion}/${kind}`];
    if (!target)
      throw new Error(
        `a refresh of ${entry.urn}: the verifier does not know what reading ${apiVersion} ${kind} requests`,
      );
    // A Namespace is read by its own name, which is also the request's namespace (RBAC allows a Role
    // in it to grant that); a cluster-scoped kind without one, whatever its id or metadata say.
    // A namespaced read whose id names none is a Get in "default" (clients.go NamespaceOrDefault).
    const namespace =
      kind === "Namespace"
        ? metadata?.name
        : target.clusterScoped
          ? undefined
          : (metadata?.namespace ?? (read ? "default" : undefined));
    requests.push({
      apiGroup: target.apiGroup,
      resource: target.resource,
      verb: "get",
      ...(metadata?.name ? { name: metadata.name } : {}),
      ...(namespace ? { namespace } : {}),
    });
    if (kind === "Deployment")
      requests.push({ apiGroup: "apps", resource: "replicasets", verb: "list", ...(namespace ? { namespace } : {}) });
  }
  return requests;
}
