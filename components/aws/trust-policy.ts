// The trust policy of a role that GitHub Actions jobs assume through OIDC: who may assume it is
// exactly the list of subjects the caller derived from the jobs that use the role.
// StringEquals on `aud` and on `sub`; StringLike only for a subject that needs a wildcard; never
// ForAllValues in an Allow (true when the claim is absent: AWS IAM docs, "Single-valued vs.
// multivalued context keys"); a wildcard in the owner/repository part (`repo:acme/*`,
// `repo:acme/api*`) trusts other repositories.
import { githubOidc } from "../shared/oidc-subjects";
import type { IamPolicyDocument, IamStatement } from "./iam-policy-document";

const wildcard = /[*?]/;
// `repo:OWNER/REPO:CONTEXT` or the immutable `repo:OWNER@ID/REPO@ID:CONTEXT`; the repository part
// must be literal, whatever the context part holds.
const subjectShape = /^repo:[^:/*?\s]+\/[^:/*?\s]+:\S+$/;

/**
 * Checks a subject list before any resource is registered (an error thrown later, inside an
 * Output's apply, would surface as an unhandled rejection).
 */
export function validateSubjects(subjects: readonly string[], role: string): void {
  if (subjects.length === 0) {
    throw new Error(`the ${role} role has no OIDC subjects: no job assumes it, so nothing could; pass the subjects of the jobs that use it`);
  }
  for (const subject of subjects) {
    if (!subjectShape.test(subject)) {
      throw new Error(`the ${role} role's OIDC subject ${JSON.stringify(subject)} must be repo:OWNER/REPO:CONTEXT with a literal owner and repository (a wildcard there trusts other repositories)`);
    }
  }
}

/**
 * The trust policy admitting a web-identity session from `providerArn` for a token whose audience
 * is sts.amazonaws.com and whose subject is one of `subjects`. Exact subjects are matched with
 * StringEquals; only subjects with a wildcard go into a separate StringLike statement (separate
 * because operators within one statement are ANDed).
 */
export function trustPolicy(providerArn: string, subjects: readonly string[], role = "pipeline"): IamPolicyDocument {
  validateSubjects(subjects, role);
  const unique = [...new Set(subjects)].sort();
  const exact = unique.filter((s) => !wildcard.test(s));
  const patterns = unique.filter((s) => wildcard.test(s));
  const statement = (sid: string, operator: "StringEquals" | "StringLike", values: string[]): IamStatement => ({
    Sid: sid,
    Effect: "Allow",
    Principal: { Federated: providerArn },
    Action: "sts:AssumeRoleWithWebIdentity",
    Condition: operator === "StringEquals"
      ? { StringEquals: { [githubOidc.audienceKey]: githubOidc.audience, [githubOidc.subjectKey]: values } }
      : { StringEquals: { [githubOidc.audienceKey]: githubOidc.audience }, StringLike: { [githubOidc.subjectKey]: values } },
  });
  const statements: IamStatement[] = [];
  if (exact.length > 0) statements.push(statement("GithubActionsJobs", "StringEquals", exact));
  if (patterns.length > 0) statements.push(statement("GithubActionsJobPatterns", "StringLike", patterns));
  return { Version: "2012-10-17", Statement: statements };
}
