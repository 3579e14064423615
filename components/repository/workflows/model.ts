// A typed model of GitHub Actions workflows: the objects have the shape of the YAML they become
// (one writer emits them), so whatever reads a rendered workflow can reuse what is derived here.
// What a job is allowed to do in AWS follows from its steps: the role it assumes, and the OIDC
// claims it presents: the subject, from the workflow's triggers and the job's environment, and
// the workflow ref, from the workflow's file and triggers.
import {
  jobWorkflowRef,
  oidcSubjects,
  type GithubRepository,
  type JobContext,
  type TrustedWorkflow,
} from "../../shared/oidc-subjects";

export type PermissionLevel = "read" | "write" | "none";
export type PermissionScope =
  | "actions"
  | "attestations"
  | "checks"
  | "contents"
  | "deployments"
  | "id-token"
  | "issues"
  | "packages"
  | "pull-requests"
  | "security-events"
  | "statuses";
export type Permissions = Partial<Record<PermissionScope, PermissionLevel>>;

/** A concurrency group; `queue: max` keeps up to 100 runs pending in order instead of one (GitHub, May 2026). */
export interface Concurrency {
  readonly group: string;
  readonly "cancel-in-progress": boolean;
  readonly queue?: "single" | "max";
}

export interface Step {
  readonly name: string;
  readonly id?: string;
  readonly if?: string;
  readonly uses?: string;
  readonly with?: Readonly<Record<string, string | number | boolean>>;
  readonly run?: string;
  readonly shell?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly "continue-on-error"?: boolean;
  readonly "timeout-minutes"?: number;
  readonly "working-directory"?: string;
}

export interface Job {
  readonly name: string;
  readonly "runs-on": string;
  readonly needs?: readonly string[];
  readonly if?: string;
  readonly environment?: { readonly name: string; readonly url?: string };
  readonly permissions: Permissions;
  readonly concurrency?: Concurrency;
  readonly outputs?: Readonly<Record<string, string>>;
  readonly strategy?: {
    readonly "fail-fast"?: boolean;
    readonly "max-parallel"?: number;
    readonly matrix: Readonly<Record<string, readonly (string | number)[]>>;
  };
  readonly "timeout-minutes"?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly steps: readonly Step[];
}

export interface WorkflowDispatchInput {
  readonly description: string;
  readonly required: boolean;
  readonly type: "string" | "boolean" | "choice" | "environment";
  readonly default?: string;
  readonly options?: readonly string[];
}

export interface Triggers {
  readonly push?: {
    readonly branches?: readonly string[];
    readonly tags?: readonly string[];
    readonly paths?: readonly string[];
  };
  readonly pull_request?: {
    readonly branches?: readonly string[];
    readonly paths?: readonly string[];
    readonly types?: readonly string[];
  };
  readonly workflow_dispatch?: { readonly inputs?: Readonly<Record<string, WorkflowDispatchInput>> } | null;
  readonly schedule?: readonly { readonly cron: string }[];
}

export interface Workflow {
  readonly name: string;
  readonly on: Triggers;
  readonly permissions: Permissions;
  readonly concurrency?: Concurrency;
  readonly env?: Readonly<Record<string, string>>;
  readonly jobs: Readonly<Record<string, Job>>;
}

/** A workflow and the repository path it is committed to. */
export interface WorkflowFile {
  readonly path: string;
  readonly workflow: Workflow;
}

const globCharacters = /[*?[\]!]/;

/**
 * The contexts a job can run in, from its workflow's triggers and its environment. A job in an
 * environment presents the environment whatever triggered it (the environment's deployment
 * branch policy decides which refs may reach it). Otherwise each trigger gives its own context;
 * one that cannot be pinned to a literal ref (a branch pattern, a manual run on any branch) is
 * an error, since no trust policy could admit it without admitting others.
 */
export function jobContexts(workflow: Workflow, job: Job): JobContext[] {
  if (job.environment) return [{ kind: "environment", environment: job.environment.name }];
  const contexts: JobContext[] = [];
  if (workflow.on.pull_request) contexts.push({ kind: "pull_request" });
  for (const branch of workflow.on.push?.branches ?? []) {
    if (globCharacters.test(branch))
      throw new Error(`job "${job.name}" runs on pushes to the branch pattern ${branch}: its subject cannot be pinned`);
    contexts.push({ kind: "branch", branch });
  }
  for (const tag of workflow.on.push?.tags ?? []) {
    if (globCharacters.test(tag))
      throw new Error(`job "${job.name}" runs on pushes of the tag pattern ${tag}: its subject cannot be pinned`);
    contexts.push({ kind: "tag", tag });
  }
  if (workflow.on.workflow_dispatch !== undefined) {
    throw new Error(
      `job "${job.name}" can be started by hand on any branch: give it an environment to pin its subject`,
    );
  }
  return contexts;
}

/**
 * The configure-aws-credentials step names the role through a variable; the variable's name
 * says which role. A job that assumes a role is recognised by that step alone.
 */
export const roleVariablePattern = /^\$\{\{\s*vars\.([A-Z0-9_]+)\s*\}\}$/;

/** The repository or environment variables holding the role ARNs a job assumes. */
export function roleVariablesAssumedBy(job: Job): string[] {
  return job.steps.flatMap((step) => {
    const role = step.with?.["role-to-assume"];
    if (!step.uses?.startsWith("aws-actions/configure-aws-credentials@") || typeof role !== "string") return [];
    const match = roleVariablePattern.exec(role);
    if (!match) throw new Error(`step "${step.name}" names its role as ${role}: name it through a vars.* variable`);
    return [match[1]];
  });
}

/** The subjects the jobs of `workflow` that assume the role in `roleVariable` present. */
function assumingJobSubjects(workflow: Workflow, roleVariable: string, repository: GithubRepository): string[] {
  const subjects = new Set<string>();
  for (const job of Object.values(workflow.jobs)) {
    if (!roleVariablesAssumedBy(job).includes(roleVariable)) continue;
    const contexts = jobContexts(workflow, job);
    if (contexts.length === 0)
      throw new Error(
        `job "${job.name}" assumes ${roleVariable} but runs in no context a subject can pin: give it an environment`,
      );
    for (const context of contexts) for (const s of oidcSubjects(repository, context)) subjects.add(s);
  }
  return [...subjects].sort();
}

/** Every OIDC subject that some job assuming the role in `roleVariable` presents. */
export function trustSubjects(
  files: readonly WorkflowFile[],
  roleVariable: string,
  repository: GithubRepository,
): string[] {
  return [...new Set(files.flatMap(({ workflow }) => assumingJobSubjects(workflow, roleVariable, repository)))].sort();
}

/**
 * The `job_workflow_ref` values of the runs of a workflow file, from its triggers: a push its
 * branch's or tag's, a pull request refs/pull/<number>/merge (any number), a scheduled or manual
 * run `branch`'s. `branch` is the one the files are committed to: GitHub runs schedules from the
 * default branch only, and a manual run from any other branch is not trusted. A trigger whose
 * refs cannot be pinned (a pattern, a push of any ref) is an error.
 */
export function workflowRefs(file: WorkflowFile, repository: GithubRepository, branch: string): string[] {
  const { on } = file.workflow;
  const literal = (kind: string, name: string) => {
    if (globCharacters.test(name))
      throw new Error(`${file.path} runs on pushes to the ${kind} pattern ${name}: its workflow ref cannot be pinned`);
    return name;
  };
  const refs = new Set<string>();
  if (on.pull_request) refs.add("refs/pull/*/merge");
  if (on.push && !on.push.branches && !on.push.tags)
    throw new Error(`${file.path} runs on pushes of any branch or tag: its workflow ref cannot be pinned`);
  for (const b of on.push?.branches ?? []) refs.add(`refs/heads/${literal("branch", b)}`);
  for (const t of on.push?.tags ?? []) refs.add(`refs/tags/${literal("tag", t)}`);
  if (on.schedule !== undefined || on.workflow_dispatch !== undefined) refs.add(`refs/heads/${branch}`);
  return [...refs].sort().map((ref) => jobWorkflowRef(repository, file.path, ref));
}

/**
 * Who may assume the role in `roleVariable`: for each workflow file with a job that assumes it,
 * the subjects of those jobs and the file's workflow refs (one entry per file, so that no job of
 * one file is admitted with the subject of another's), and the repository id when known.
 * `branch`: as for workflowRefs.
 */
export function trustedWorkflows(
  files: readonly WorkflowFile[],
  roleVariable: string,
  repository: GithubRepository,
  branch: string,
): TrustedWorkflow[] {
  return files.flatMap((file) => {
    const subjects = assumingJobSubjects(file.workflow, roleVariable, repository);
    if (subjects.length === 0) return [];
    return [
      {
        subjects,
        workflowRefs: workflowRefs(file, repository, branch),
        ...(repository.repositoryId === undefined ? {} : { repositoryId: String(repository.repositoryId) }),
      },
    ];
  });
}
