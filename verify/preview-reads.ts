// What a refreshed `pulumi preview` requests of the cluster, read off the render independently of
// the generator: for each Kubernetes object it refreshes, the pulumi-kubernetes provider's Read, a
// GET by name (provider/pkg/await/await.go, Read); for a Deployment also its readiness check's list
// of the ReplicaSets in its namespace (await/deployment.go, deploymentInitAwaiter.Read). The Pods
// and PersistentVolumeClaims that check lists too only explain a failure, and an empty list is
// read as none (the real tier's preview runs without them). An object whose URN matches one of
// the step's `exclude` globs is neither read nor diffed. A kind this module does not know is an
// error, never a skip.
import type { ApiRequest } from "./kubectl";
import { resourceEntries, type RenderFiles, type WorkflowJob } from "./render-files";

/** The API group and resource of each kind a refresh may read. */
const resourceOf: Record<string, { readonly apiGroup: string; readonly resource: string }> = {
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
  // Cluster-scoped: read without a namespace.
  "rbac.authorization.k8s.io/v1/ClusterRole": { apiGroup: "rbac.authorization.k8s.io", resource: "clusterroles" },
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": {
    apiGroup: "rbac.authorization.k8s.io",
    resource: "clusterrolebindings",
  },
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy": {
    apiGroup: "admissionregistration.k8s.io",
    resource: "validatingadmissionpolicies",
  },
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding": {
    apiGroup: "admissionregistration.k8s.io",
    resource: "validatingadmissionpolicybindings",
  },
};

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
    const { apiVersion, kind, metadata } = entry.inputs as {
      apiVersion?: string;
      kind?: string;
      metadata?: { name?: string; namespace?: string };
    };
    const target = resourceOf[`${apiVersion}/${kind}`];
    if (!target)
      throw new Error(
        `a refresh of ${entry.urn}: the verifier does not know what reading ${apiVersion} ${kind} requests`,
      );
    // A Namespace is read by its own name, which is also the request's namespace (RBAC allows a Role in it to grant that).
    const namespace = kind === "Namespace" ? metadata?.name : metadata?.namespace;
    requests.push({
      ...target,
      verb: "get",
      ...(metadata?.name ? { name: metadata.name } : {}),
      ...(namespace ? { namespace } : {}),
    });
    if (kind === "Deployment")
      requests.push({ apiGroup: "apps", resource: "replicasets", verb: "list", ...(namespace ? { namespace } : {}) });
  }
  return requests;
}
