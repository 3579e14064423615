// The cross-component checks over one render, read the way an auditor or an attacker reads it:
// identity (jobs against trust policies, and no Pulumi credential shared between a gated and an
// ungated stack's previews), cluster rights (each job's kubectl against the Role its
// credentials are bound to), secrets (nothing in plain text) and names (everything the workflows
// reference exists; a Rollout's Services and AnalysisTemplates too, rollout-references.ts). actionlint, a real binary of the real tier's tools, runs apart from them
// (lintRender). A check that finds nothing to examine says so as a finding, never "ok".
import { mockAccount } from "../testing/mock-engine";
import { commandClusterRoles, jobClusterRoles, jobClusterWideRoles } from "./cluster-identity";
import { checkClusterRights, scriptRequests, type RoleRule } from "./cluster-rights";
import type { ApiRequest } from "./kubectl";
import { podRequests } from "./pod-requests";
import { checkPreviewIdentities } from "./preview-identity";
import { previewRequests, refreshedPreviews, unrecordedReads } from "./preview-reads";
import { assumedRoles, checkIdentity, roleContexts, type Repository } from "./identity";
import { checkGithubNames, checkImageNames, checkKubernetesNames } from "./names";
import {
  committedRepositories,
  kubernetesObjects,
  noWorkflows,
  ofType,
  workflowDocuments,
  workflowFiles,
  type CommittedRepository,
  type KubernetesObject,
  type RenderFiles,
} from "./render-files";
import { formatFinding, lintWorkflow } from "./actionlint";
import { schemaProblems } from "./kubernetes-schema";
import { checkRollouts } from "./rollout-references";
import { checkSecrets, secretPlaceholder } from "./secrets";

export interface VerifyInput {
  readonly files: RenderFiles;
  /** Renders of other stacks that commit to the same repositories, for cross-stack references. */
  readonly others?: readonly RenderFiles[];
  /**
   * The repository a stack file names, with its numeric ids when it gives them. The repositories
   * a render's workflows run in are read from the render (each RepositoryFile's repository and its
   * GitHub provider's owner); this one must be among them, and adds the immutable subject form.
   */
  readonly repository?: Repository;
  /** The existing OIDC provider the stack adopts, when it creates none. */
  readonly existingProviderArn?: string;
  /** Plain values of the secrets the render was given, by name. */
  readonly knownSecrets?: Readonly<Record<string, string>>;
}

export interface Findings {
  /** Every Kubernetes object against the OpenAPI schemas, unknown fields included. */
  readonly schema: string[];
  readonly identity: string[];
  readonly clusterRights: string[];
  readonly secrets: string[];
  readonly names: string[];
}

/** The ARN GitHub's tokens are federated through: the stack's own provider, or the adopted one. */
function providerArn(input: VerifyInput): string | undefined {
  const created = ofType(input.files, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")[0];
  if (created)
    return `arn:${mockAccount.partition}:iam::${mockAccount.accountId}:oidc-provider/${String(created.inputs.url).replace(/^https:\/\//, "")}`;
  return input.existingProviderArn;
}

/** The repositories the render's workflows run in, with the ids the stack file gives; what does not add up is a finding. */
function repositories(input: VerifyInput): { known: Repository[]; findings: string[] } {
  const named = input.repository;
  const isNamed = (r: CommittedRepository) =>
    named !== undefined && r.name === named.name && (r.owner ?? named.owner) === named.owner;
  const committed = committedRepositories(input.files);
  const known: Repository[] = [];
  const findings: string[] = [];
  for (const r of committed) {
    if (named && isNamed(r)) known.push(named);
    else if (r.owner !== undefined) known.push({ owner: r.owner, name: r.name });
    else findings.push(`the render commits to ${r.name} through a GitHub provider that names no owner`);
  }
  if (named && !committed.some(isNamed)) {
    findings.push(
      `the stack file names the repository ${named.owner}/${named.name}, but the render commits to ${committed.map((r) => `${r.owner ?? "?"}/${r.name}`).join(", ") || "none"}`,
    );
  }
  return { known, findings };
}

function identity(input: VerifyInput): string[] {
  const arn = providerArn(input);
  if (arn === undefined)
    return ["the render neither creates an OIDC provider nor names an existing one (oidcProviderArn)"];
  const { known, findings } = repositories(input);
  return [
    ...findings,
    ...checkIdentity(input.files, known, arn, input.others),
    ...checkPreviewIdentities(input.files, input.others),
  ];
}

/**
 * Each Role's rules against every kubectl command and refreshed preview of the jobs that act under
 * it (cluster-identity.ts follows each job's credentials to its Role), and every API request of the
 * pods that run as a ServiceAccount bound to it (pod-requests.ts), in the Role's namespace. A
 * preview whose credentials reach no Role of this render previews another stack.
 */
function clusterRights(files: RenderFiles, others: readonly RenderFiles[]): string[] {
  const workflows = workflowDocuments(files);
  if (workflows.length === 0) return [noWorkflows];
  const objects = kubernetesObjects(files);
  const contexts = roleContexts(files, others);
  const scriptsOf = new Map(objects.filter((o) => o.kind === "Role").map((role) => [role, [] as string[]]));
  // Requests made otherwise than by kubectl: refreshed previews, the stack's own pods.
  const requestsOf = new Map<KubernetesObject, ApiRequest[]>();
  const addRequests = (role: KubernetesObject, requests: readonly ApiRequest[]) =>
    requestsOf.set(role, [...(requestsOf.get(role) ?? []), ...requests]);
  // Cluster-scoped reads (no namespace) are judged against the ClusterRoles, every one of the render's.
  const clusterReadsOf = new Map(
    objects.filter((o) => o.kind === "ClusterRole").map((role) => [role, [] as ApiRequest[]]),
  );
  const findings: string[] = [];
  // A `.get` the render depends on but does not record: a refresh reads it, by a name only the read carries.
  if (workflows.some(({ document }) => Object.values(document.jobs).some((job) => refreshedPreviews(job).length > 0)))
    findings.push(
      ...unrecordedReads(files).map(
        (urn) =>
          `${urn}: a refreshed preview reads this object (a \`.get\` of the program), but the render does not record the read (external, with its id): what it requests cannot be judged`,
      ),
    );
  for (const { path, repository, document } of workflows) {
    for (const [jobId, job] of Object.entries(document.jobs)) {
      const scripts = (job.steps ?? []).flatMap((s) => (s.run ? [s.run] : []));
      const { requests, unknown } = scriptRequests(scripts);
      findings.push(...unknown.map((u) => `${path} job ${jobId}: unreadable kubectl command: ${u}`));
      const previews = refreshedPreviews(job);
      if (requests.length === 0 && previews.length === 0) continue;
      const assumed = assumedRoles(contexts, repository, job).flatMap((a) => (a.role ? [a.role] : []));
      const roles = jobClusterRoles(files, objects, repository, job, assumed);
      const reads = previews.flatMap((step) => previewRequests(files, step));
      const clusterReads = reads.filter((r) => r.namespace === undefined);
      if (clusterReads.length > 0) {
        const clusterRoles = jobClusterWideRoles(files, objects, repository, job, assumed);
        if (clusterRoles.length === 1) clusterReadsOf.get(clusterRoles[0])?.push(...clusterReads);
        else
          findings.push(
            `${path} job ${jobId}: previews cluster-scoped objects, but its credentials are bound to ${clusterRoles.length} ClusterRoles`,
          );
      }
      if (roles.length === 1) {
        scriptsOf.get(roles[0])?.push(...scripts);
        addRequests(
          roles[0],
          reads.filter((r) => r.namespace !== undefined),
        );
      } else if (requests.length > 0 || roles.length > 1) {
        findings.push(
          `${path} job ${jobId}: ${requests.length > 0 ? "runs kubectl" : "previews the stack"}, but its credentials are bound to ${roles.length === 0 ? "no Role" : `${roles.length} Roles (${roles.map(roleName).join(", ")})`}`,
        );
      }
    }
  }
  // `pulumi up`'s own commands: in token mode the smoke test runs as the deployer.
  for (const c of commandClusterRoles(files, objects)) {
    if (c.roles.length === 1) scriptsOf.get(c.roles[0])?.push(c.script);
    else if (c.roles.length > 1)
      findings.push(`command ${c.command}: its credentials are bound to ${c.roles.length} Roles`);
  }
  for (const pod of podRequests(objects)) {
    findings.push(...pod.unknown.map((u) => `${pod.pod}: unreadable API request: ${u}`));
    if (pod.roles.length === 1) addRequests(pod.roles[0], pod.requests);
    else if (pod.requests.length > 0)
      findings.push(
        `${pod.pod}: requests the API server, but its ServiceAccount is bound to ${pod.roles.length === 0 ? "no Role" : `${pod.roles.length} Roles`}`,
      );
  }
  if (scriptsOf.size === 0 && findings.length === 0)
    findings.push("the render holds no Role and no job requests anything of a cluster: nothing was checked");
  for (const [role, scripts] of scriptsOf) {
    const f = checkClusterRights(
      scripts,
      (role.rules as RoleRule[] | undefined) ?? [],
      role.metadata.namespace ?? "",
      requestsOf.get(role),
    );
    findings.push(
      ...f.missing.map((m) => `${roleName(role)} does not grant ${m}, which a workflow acting under it needs`),
      ...f.unused.map((u) => `${roleName(role)} grants ${u}, which no workflow acting under it uses`),
      ...f.foreignNamespace.map((n) => `a workflow acting under ${roleName(role)} requests ${n}`),
    );
  }
  for (const [role, reads] of clusterReadsOf) {
    const f = checkClusterRights([], (role.rules as RoleRule[] | undefined) ?? [], undefined, reads);
    findings.push(
      ...f.missing.map(
        (m) => `ClusterRole ${role.metadata.name} does not grant ${m}, which a workflow acting under it needs`,
      ),
      ...f.unused.map((u) => `ClusterRole ${role.metadata.name} grants ${u}, which no workflow acting under it uses`),
    );
  }
  return findings;
}

const roleName = (role: KubernetesObject) => `Role ${role.metadata.namespace ?? ""}/${role.metadata.name}`;

/** Strict schema problems of every rendered object (a map rendered whole as a secret counts as a valid map). */
async function schema(files: RenderFiles): Promise<string[]> {
  const objects = kubernetesObjects(files);
  if (objects.length === 0) return ["the render holds no Kubernetes object: nothing was checked"];
  const findings: string[] = [];
  for (const object of objects) {
    const shown = Object.fromEntries(
      Object.entries(object).map(([k, v]) => [
        k,
        (k === "data" || k === "stringData") && v === secretPlaceholder ? {} : v,
      ]),
    );
    for (const p of await schemaProblems(shown))
      findings.push(`${object.kind} ${object.metadata.namespace ?? ""}/${object.metadata.name}: ${p}`);
  }
  return findings;
}

/** Every workflow of the render through actionlint (tools/build.sh builds it); a linter that cannot run is a finding. */
export function lintRender(files: RenderFiles): string[] {
  const workflows = workflowFiles(files);
  if (workflows.length === 0) return [noWorkflows];
  try {
    return workflows.flatMap((w) => lintWorkflow(`repo/${w.path}`, w.content).map(formatFinding));
  } catch (error) {
    return [`actionlint did not run: ${(error as Error).message}`];
  }
}

export async function verifyRender(input: VerifyInput): Promise<Findings> {
  const others = input.others ?? [];
  return {
    schema: await schema(input.files),
    identity: identity(input),
    clusterRights: clusterRights(input.files, others),
    secrets: checkSecrets(input.files, input.knownSecrets ?? {}),
    names: [
      ...new Set([
        ...checkGithubNames(input.files, others),
        ...checkKubernetesNames(input.files),
        ...checkImageNames(input.files),
        ...checkRollouts(input.files),
      ]),
    ],
  };
}
