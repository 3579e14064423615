// The Kubernetes Roles a job acts under, found by following its cluster credentials through the
// render the way the cluster's authenticator and authoriser do: in eks mode, the IAM roles the job
// assumes to the EKS access entries of those roles and the Kubernetes groups they map to; in token
// mode, the GitHub secrets the job reads to the service-account tokens they are built from (the
// secret resource's dependencies). Then the RoleBindings that name that group or service account,
// to the Roles they bind. A render of several services thus checks each service's jobs against
// that service's own Role, whatever namespace its scripts name.
import { arnNamesRole, type Role } from "./identity";
import {
  jobEnvironment,
  ofType,
  resourceEntries,
  type KubernetesObject,
  type RenderFiles,
  type WorkflowJob,
} from "./render-files";

/** Who the cluster sees: a group (an EKS access entry's) or a service account. */
export interface Subject {
  readonly kind: "Group" | "ServiceAccount";
  readonly name: string;
  readonly namespace?: string;
}

interface BindingSubject {
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
}

const serviceAccountName = "kubernetes.io/service-account.name";

/** The service accounts whose token Secrets are among `urns` (what a credential was built from). */
function tokenServiceAccounts(files: RenderFiles, urns: readonly string[]): Subject[] {
  const entries = resourceEntries(files);
  return urns
    .flatMap((urn) => entries.filter((r) => r.urn === urn && r.type === "kubernetes:core/v1:Secret"))
    .flatMap((token): Subject[] => {
      const { type, metadata } = token.inputs as {
        type?: string;
        metadata?: { namespace?: string; annotations?: Record<string, string> };
      };
      const name = metadata?.annotations?.[serviceAccountName];
      return type === "kubernetes.io/service-account-token" && name
        ? [{ kind: "ServiceAccount", name, ...(metadata?.namespace ? { namespace: metadata.namespace } : {}) }]
        : [];
    });
}

/**
 * The stack's own commands (`pulumi up` runs them: the smoke test after an update) with the Roles
 * they act under: a command given a kubeconfig built from a service-account token (among its
 * dependencies) acts as that service account.
 */
export function commandClusterRoles(
  files: RenderFiles,
  objects: readonly KubernetesObject[],
): { command: string; script: string; roles: KubernetesObject[] }[] {
  return ofType(files, "command:local:Command").map((c) => ({
    command: c.name,
    script: typeof c.inputs.create === "string" ? c.inputs.create : "",
    roles: boundRoles(objects, tokenServiceAccounts(files, c.dependencies)),
  }));
}

/** The subjects the job's credentials authenticate as: `assumed` are the IAM roles it assumes. */
function clusterSubjects(
  files: RenderFiles,
  repository: string | undefined,
  job: WorkflowJob,
  assumed: readonly Role[],
): Subject[] {
  const environment = jobEnvironment(job);
  const groups = ofType(files, "aws:eks/accessEntry:AccessEntry")
    .filter((entry) => assumed.some((role) => arnNamesRole(entry.inputs.principalArn, role)))
    .flatMap((entry) =>
      ((entry.inputs.kubernetesGroups ?? []) as string[]).map((name): Subject => ({ kind: "Group", name })),
    );
  const entries = resourceEntries(files);
  const read = new Set([...JSON.stringify(job).matchAll(/\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]));
  const secrets = entries.filter(
    (r) =>
      (r.type === "github:index/actionsSecret:ActionsSecret" ||
        r.type === "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret") &&
      read.has(String(r.inputs.secretName)) &&
      r.inputs.repository === repository &&
      (r.inputs.environment === undefined || r.inputs.environment === environment),
  );
  const serviceAccounts = tokenServiceAccounts(
    files,
    secrets.flatMap((s) => s.dependencies),
  );
  return [...groups, ...serviceAccounts];
}

/**
 * The Roles the render's RoleBindings bind to any of the subjects, or (`ClusterRole`) the
 * ClusterRoles its ClusterRoleBindings bind to them.
 */
export function boundRoles(
  objects: readonly KubernetesObject[],
  subjects: readonly Subject[],
  kind: "Role" | "ClusterRole" = "Role",
): KubernetesObject[] {
  const names = (binding: KubernetesObject, s: BindingSubject) =>
    subjects.some(
      (x) =>
        x.kind === s.kind &&
        x.name === s.name &&
        (x.kind === "Group" || x.namespace === (s.namespace ?? binding.metadata.namespace)),
    );
  return objects
    .filter((o) => o.kind === `${kind}Binding` && ((o.subjects ?? []) as BindingSubject[]).some((s) => names(o, s)))
    .flatMap((binding) => {
      const ref = binding.roleRef as { kind?: string; name?: string } | undefined;
      return objects.filter(
        (o) =>
          o.kind === kind &&
          ref?.kind === kind &&
          o.metadata.name === ref.name &&
          o.metadata.namespace === binding.metadata.namespace,
      );
    })
    .filter((role, i, all) => all.indexOf(role) === i);
}

/**
 * The Roles among `objects` (the render's Kubernetes objects) a job of `repository` acts under,
 * from the IAM roles it assumes and the secrets it reads.
 */
export function jobClusterRoles(
  files: RenderFiles,
  objects: readonly KubernetesObject[],
  repository: string | undefined,
  job: WorkflowJob,
  assumed: readonly Role[],
): KubernetesObject[] {
  return boundRoles(objects, clusterSubjects(files, repository, job, assumed));
}

/** The ClusterRoles among `objects` a job of `repository` acts under (cluster-scoped reads). */
export function jobClusterWideRoles(
  files: RenderFiles,
  objects: readonly KubernetesObject[],
  repository: string | undefined,
  job: WorkflowJob,
  assumed: readonly Role[],
): KubernetesObject[] {
  return boundRoles(objects, clusterSubjects(files, repository, job, assumed), "ClusterRole");
}
