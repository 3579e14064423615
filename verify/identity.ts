// Identity: every job that assumes a role must be admitted by that role's trust policy, on the
// runs its triggers ask for and on no other; no job that can request an OIDC token may be
// admitted by a role it does not use; and no role may exist that no job assumes. The claims a job
// presents (subject, workflow ref, repository id) are derived here from GitHub's documented
// rules, apart from the generator's own derivation, so a mistake in one is caught by the other.
import { evaluatePolicy } from "./iam-policy";
import {
  jobEnvironment,
  noWorkflows,
  ofType,
  workflowDocuments,
  type RenderFiles,
  type Workflow,
  type WorkflowDocument,
  type WorkflowJob,
} from "./render-files";

export interface Repository {
  readonly owner: string;
  readonly name: string;
  readonly ownerId?: number;
  readonly repositoryId?: number;
}

/** A branch no trigger names: what a manual run on an arbitrary branch would present. */
const arbitraryBranch = "verify/any-branch";

const claimKeys = {
  sub: "token.actions.githubusercontent.com:sub",
  aud: "token.actions.githubusercontent.com:aud",
  workflowRef: "token.actions.githubusercontent.com:job_workflow_ref",
  repositoryId: "token.actions.githubusercontent.com:repository_id",
} as const;

/** The claims of one token a job may present; `meant`: a run its triggers ask for, which its role must admit (otherwise a manual run on another branch, which it must not). */
interface Token {
  readonly sub: string;
  readonly workflowRef: string;
  readonly repositoryId?: string;
  readonly meant: boolean;
}

const shown = (token: Token) => `${token.sub} from ${token.workflowRef}`;

/**
 * The tokens a job may present: for each run its triggers allow, the ref its workflow file is read
 * from (job_workflow_ref) and its subject (the environment's, else the run's), each subject in the
 * name form and, with ids, the immutable form.
 */
function presentedTokens(workflow: Workflow, jobId: string, repo: Repository): Token[] {
  const { document, file } = workflow;
  const environment = jobEnvironment(document.jobs[jobId]);
  // Scheduled runs use the default branch's file: the branch the render commits it to, if any.
  const committed = workflow.branch ?? arbitraryBranch;
  const on = document.on;
  const events: Record<string, unknown> =
    typeof on === "string"
      ? { [on]: null }
      : Array.isArray(on)
        ? Object.fromEntries((on as string[]).map((e) => [e, null]))
        : (on as Record<string, unknown>);
  // A pattern stands for every ref it matches: sample it with a name no one chose.
  const sample = (pattern: string) => pattern.replace(/\*\*?/g, "x");
  const branch = (name: string, meant = true) => ({
    ref: `refs/heads/${name}`,
    context: `ref:refs/heads/${name}`,
    meant,
  });
  const runs: { ref: string; context: string; meant: boolean }[] = [];
  for (const [event, filter] of Object.entries(events)) {
    const f = (filter ?? {}) as { branches?: string[]; tags?: string[] };
    if (event === "pull_request") runs.push({ ref: "refs/pull/17/merge", context: "pull_request", meant: true });
    else if (event === "pull_request_target")
      runs.push(...(f.branches ?? [arbitraryBranch]).map((b) => ({ ...branch(sample(b)), context: "pull_request" })));
    else if (event === "push") {
      runs.push(...(f.branches ?? (f.tags ? [] : [arbitraryBranch])).map((b) => branch(sample(b))));
      runs.push(
        ...(f.tags ?? []).map((t) => ({
          ref: `refs/tags/${sample(t)}`,
          context: `ref:refs/tags/${sample(t)}`,
          meant: true,
        })),
      );
    } else if (event === "workflow_dispatch")
      runs.push(branch(committed), branch(arbitraryBranch, false)); // by hand, on any branch
    else runs.push(branch(committed)); // schedule, workflow_run, ...: the default branch's file
  }
  const tokens = runs.flatMap(({ ref, context, meant }) => {
    const suffix = environment !== undefined ? `environment:${environment}` : context;
    return [
      `repo:${repo.owner}/${repo.name}:${suffix}`,
      ...(repo.ownerId !== undefined && repo.repositoryId !== undefined
        ? [`repo:${repo.owner}@${repo.ownerId}/${repo.name}@${repo.repositoryId}:${suffix}`]
        : []),
    ].map((sub): Token => ({
      sub,
      workflowRef: `${repo.owner}/${repo.name}/${file}@${ref}`,
      ...(repo.repositoryId !== undefined ? { repositoryId: String(repo.repositoryId) } : {}),
      meant,
    }));
  });
  // Once each; a run its triggers ask for wins over the same claims started by hand elsewhere.
  const once = new Map<string, Token>();
  for (const t of tokens) if (!once.has(shown(t)) || t.meant) once.set(shown(t), t);
  return [...once.values()];
}

/** Whether the job may request an OIDC token (`id-token: write`, its own or the workflow's). */
function canRequestToken(workflow: WorkflowDocument, jobId: string): boolean {
  const permissions = workflow.jobs[jobId].permissions ?? workflow.permissions;
  if (permissions === "write-all") return true;
  return (
    typeof permissions === "object" &&
    permissions !== null &&
    (permissions as Record<string, string>)["id-token"] === "write"
  );
}

export interface Role {
  readonly logicalName: string;
  readonly roleName: string;
  readonly trust: unknown;
}

/** Whether an ARN names the role (`arn:...:role/<name>`, with or without a path). */
export const arnNamesRole = (arn: unknown, role: Role) =>
  typeof arn === "string" && (arn.endsWith(`:role/${role.roleName}`) || arn.endsWith(`/${role.roleName}`));

function roles(files: RenderFiles): Role[] {
  return ofType(files, "aws:iam/role:Role").map((r) => {
    const trust = files.get(`aws/${r.name}.trust.json`);
    if (trust === undefined) throw new Error(`role ${r.name} has no rendered trust policy`);
    return {
      logicalName: r.name,
      roleName: typeof r.inputs.name === "string" ? r.inputs.name : r.name,
      trust: JSON.parse(trust) as unknown,
    };
  });
}

/** A render with its roles: where a job's `vars.X` is looked up (the job's own render first). */
interface RoleContext {
  readonly files: RenderFiles;
  readonly roles: Role[];
}

export const roleContexts = (files: RenderFiles, others: readonly RenderFiles[] = []): RoleContext[] =>
  [files, ...others].map((f) => ({ files: f, roles: roles(f) }));

/**
 * The role a `vars.X` names for a job of `repository`: an environment variable of its environment,
 * else a repository one, resolved to a role of the same render (each stack owns its variables and
 * roles).
 */
function roleOfVariable(
  contexts: readonly RoleContext[],
  repository: string | undefined,
  variable: string,
  environment: string | undefined,
): Role | undefined {
  for (const { files, roles } of contexts) {
    const variables = [
      ...ofType(files, "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable").filter(
        (v) => v.inputs.environment === environment,
      ),
      ...ofType(files, "github:index/actionsVariable:ActionsVariable"),
    ].filter((v) => v.inputs.repository === repository);
    const arn = variables.find((v) => v.inputs.variableName === variable)?.inputs.value;
    if (typeof arn === "string") return roles.find((r) => arnNamesRole(arn, r));
  }
  return undefined;
}

/** Each role a job's configure-aws-credentials steps assume, as named and as resolved (undefined: no variable of the stacks resolves it). */
export function assumedRoles(
  contexts: readonly RoleContext[],
  repository: string | undefined,
  job: WorkflowJob,
): { named: string; role: Role | undefined }[] {
  return (job.steps ?? [])
    .filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))
    .map((step) => {
      const named = typeof step.with?.["role-to-assume"] === "string" ? step.with["role-to-assume"] : "";
      const variable = /^\$\{\{\s*vars\.(\w+)\s*\}\}$/.exec(named)?.[1];
      return {
        named,
        role: variable ? roleOfVariable(contexts, repository, variable, jobEnvironment(job)) : undefined,
      };
    });
}

/**
 * Checks every job of the render's workflows against every role of the render, each job presenting
 * the claims of the repository its workflow is committed to, and every role of the render against
 * the jobs: one that no job assumes should not exist. `others` are the renders of the
 * repositories' other stacks: their variables and roles resolve cross-stack references (the
 * repository-wide preview workflow names each stack's preview role), and their jobs are checked
 * against this render's roles too.
 */
export function checkIdentity(
  files: RenderFiles,
  repositories: readonly Repository[],
  providerArn: string,
  others: readonly RenderFiles[] = [],
): string[] {
  const contexts = roleContexts(files, others);
  const ownRoles = contexts[0].roles;
  const findings: string[] = [];
  const decide = (role: Role, token: Token) =>
    evaluatePolicy(role.trust, {
      action: "sts:AssumeRoleWithWebIdentity",
      principal: { federated: providerArn },
      context: {
        [claimKeys.sub]: token.sub,
        [claimKeys.aud]: "sts.amazonaws.com",
        [claimKeys.workflowRef]: token.workflowRef,
        [claimKeys.repositoryId]: token.repositoryId,
      },
    });
  const own = workflowDocuments(files);
  if (own.length === 0) return [noWorkflows];
  // Every workflow of these repositories, this render's first: a file two stacks commit is judged
  // once. Another render's job is this render's business only where this render's roles are
  // concerned: the roles of its own render are judged when that render is verified.
  const workflows = new Map<string, Workflow & { readonly own: boolean }>();
  for (const w of [
    ...own.map((o) => ({ ...o, own: true })),
    ...others.flatMap(workflowDocuments).map((o) => ({ ...o, own: false })),
  ]) {
    if (!workflows.has(`${w.repository}/${w.file}`) && (w.own || repositories.some((r) => r.name === w.repository)))
      workflows.set(`${w.repository}/${w.file}`, w);
  }
  const assumedByAny = new Set<Role>();
  for (const workflow of workflows.values()) {
    const { path, repository, document, own: isOwn } = workflow;
    const repo = repositories.find((r) => r.name === repository);
    if (!repo) {
      findings.push(
        `${path}: committed to ${repository ?? "no single repository"}, of no owner the verifier knows: the claims its jobs present are unknown`,
      );
      continue;
    }
    for (const [jobId, job] of Object.entries(document.jobs)) {
      const where = `${path} job ${jobId}`;
      const tokens = presentedTokens(workflow, jobId, repo);
      const token = canRequestToken(document, jobId);
      const assumed = new Set<Role>();
      for (const { named, role } of assumedRoles(contexts, repository, job)) {
        if (role) {
          assumed.add(role);
          assumedByAny.add(role);
        }
        if (!isOwn && !(role && ownRoles.includes(role))) continue;
        if (!role) {
          findings.push(`${where}: assumes a role no variable of the stack resolves (${named || "no role-to-assume"})`);
          continue;
        }
        if (!token) findings.push(`${where}: assumes ${role.logicalName} without id-token: write`);
        for (const t of tokens) {
          const allowed = decide(role, t) === "allow";
          if (t.meant && !allowed)
            findings.push(`${where}: presents ${shown(t)}, which ${role.logicalName} does not admit`);
          if (!t.meant && allowed)
            findings.push(`${where}: ${role.logicalName} admits it also when started by hand elsewhere (${shown(t)})`);
        }
      }
      if (!token) continue;
      for (const role of ownRoles.filter((r) => !assumed.has(r))) {
        for (const t of tokens)
          if (decide(role, t) === "allow")
            findings.push(`${where}: could assume ${role.logicalName} (presents ${shown(t)}) but does not use it`);
      }
    }
  }
  for (const role of ownRoles.filter((r) => !assumedByAny.has(r))) {
    findings.push(
      `${role.logicalName}: no job of the committed workflows assumes it: a role no job assumes should not exist`,
    );
  }
  return findings;
}
