// The `sub` claim a GitHub Actions job presents to AWS, derived from how the job runs. Trust
// policies are built from these subjects, computed from the generated jobs themselves, so the
// roles and the workflows cannot drift apart.
// GitHub docs ("OpenID Connect", example subject claims): a job with `environment:` presents the
// environment form, not the branch ref; pull requests present `pull_request`; repositories with
// immutable subject claims send `repo:OWNER@OWNER_ID/REPO@REPO_ID:...`. AWS matches the claim
// case-sensitively.

/** The repository whose jobs present subjects. */
export interface GithubRepository {
  readonly owner: string;
  readonly name: string;
  /** With repositoryId: the immutable subject form is trusted too. */
  readonly ownerId?: number;
  readonly repositoryId?: number;
}

/** How a job runs, as far as its OIDC subject is concerned. */
export type JobContext =
  | { readonly kind: "environment"; readonly environment: string }
  | { readonly kind: "branch"; readonly branch: string }
  | { readonly kind: "tag"; readonly tag: string }
  | { readonly kind: "pull_request" };

/** The part of the subject after `repo:OWNER/REPO:`. */
export function subjectContext(context: JobContext): string {
  switch (context.kind) {
    case "environment":
      return `environment:${context.environment}`;
    case "branch":
      return `ref:refs/heads/${context.branch}`;
    case "tag":
      return `ref:refs/tags/${context.tag}`;
    case "pull_request":
      return "pull_request";
  }
}

/** Every subject form the repository may send for a job in `context` (name form, then immutable). */
export function oidcSubjects(repository: GithubRepository, context: JobContext): string[] {
  const suffix = subjectContext(context);
  const subjects = [`repo:${repository.owner}/${repository.name}:${suffix}`];
  if (repository.ownerId !== undefined && repository.repositoryId !== undefined) {
    subjects.push(
      `repo:${repository.owner}@${repository.ownerId}/${repository.name}@${repository.repositoryId}:${suffix}`,
    );
  }
  return subjects;
}

/** The `job_workflow_ref` of a job of the workflow file at `path` run from `ref`: OWNER/REPO/PATH@REF. */
export const jobWorkflowRef = (repository: GithubRepository, path: string, ref: string) =>
  `${repository.owner}/${repository.name}/${path}@${ref}`;

/**
 * What the tokens of one workflow file's jobs that assume a role present, as a trust policy
 * requires it: one of the subjects, one of the workflow refs, and the repository id when known.
 */
export interface TrustedWorkflow {
  /** `sub` values, e.g. `repo:acme/orders-api:environment:prod`. */
  readonly subjects: readonly string[];
  /** `job_workflow_ref` values, e.g. `acme/orders-api/.github/workflows/deploy-prod.yml@refs/heads/main`. */
  readonly workflowRefs: readonly string[];
  /** `repository_id`, the numeric id as a string. Default: not required. */
  readonly repositoryId?: string;
}

/**
 * The issuer, audience and claim keys of GitHub's OIDC tokens as IAM condition keys (STS
 * evaluates job_workflow_ref and repository_id at AssumeRoleWithWebIdentity since February 2026).
 */
export const githubOidc = {
  url: "https://token.actions.githubusercontent.com",
  audience: "sts.amazonaws.com",
  subjectKey: "token.actions.githubusercontent.com:sub",
  audienceKey: "token.actions.githubusercontent.com:aud",
  workflowRefKey: "token.actions.githubusercontent.com:job_workflow_ref",
  repositoryIdKey: "token.actions.githubusercontent.com:repository_id",
} as const;
