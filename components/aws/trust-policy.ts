// The trust policy of a role that GitHub Actions jobs assume through OIDC: who may assume it is
// exactly what the caller derived from the jobs that use it, per workflow file: its jobs'
// subjects, its workflow refs and the repository id when known, every one required.
// One statement per file: IAM ANDs the keys and operators of a statement and ORs the values of a
// key, so one statement for two files would admit a job of either with the other's subject.
// StringEquals, and StringLike only for values with a wildcard (a pull request's
// refs/pull/*/merge), in a statement of their own since operators within one are ANDed; never
// ForAllValues in an Allow (true when the claim is absent: AWS IAM docs, "Single-valued vs.
// multivalued context keys"); a wildcard in the owner, repository or file (`repo:acme/*`,
// `repo:acme/api*`) trusts other repositories or files.
import { ConfigError, type InputProblem } from "../../config/errors";
import { githubOidc, type TrustedWorkflow } from "../shared/oidc-subjects";
import type { IamCondition, IamPolicyDocument, IamStatement } from "./iam-policy-document";

const wildcard = /[*?]/;
// `repo:OWNER/REPO:CONTEXT` or the immutable `repo:OWNER@ID/REPO@ID:CONTEXT`; the repository part
// must be literal, whatever the context part holds.
const subjectShape = /^repo:[^:/*?\s]+\/[^:/*?\s]+:\S+$/;
// `OWNER/REPO/.github/workflows/FILE.yml@REF`: owner, repository and file literal.
const workflowRefShape = /^[^/*?\s]+\/[^/*?\s]+\/\.github\/workflows\/[^/@*?\s]+\.ya?ml@refs\/\S+$/;

/**
 * Why what a role trusts cannot be trusted, each problem at its path under `at` (the property that
 * holds the list: `deployTrust[0].subjects[1]`); empty when it can. Checked before any resource
 * is registered.
 */
export function trustProblems(trusted: readonly TrustedWorkflow[], role: string, at: string): InputProblem[] {
  if (trusted.length === 0) {
    return [
      {
        propertyPath: at,
        reason: `is empty: the ${role} role trusts no workflow, so no job could assume it; pass the workflows of the jobs that use it`,
      },
    ];
  }
  return trusted.flatMap(({ subjects, workflowRefs, repositoryId }, i) => [
    ...(subjects.length === 0 || workflowRefs.length === 0
      ? [
          {
            propertyPath: `${at}[${i}]`,
            reason: `is a workflow without subjects or workflow refs: the ${role} role needs both`,
          },
        ]
      : []),
    ...subjects.flatMap((subject, j) =>
      subjectShape.test(subject)
        ? []
        : [
            {
              propertyPath: `${at}[${i}].subjects[${j}]`,
              reason: `${JSON.stringify(subject)} must be repo:OWNER/REPO:CONTEXT with a literal owner and repository (a wildcard there trusts other repositories)`,
            },
          ],
    ),
    ...workflowRefs.flatMap((ref, j) =>
      workflowRefShape.test(ref)
        ? []
        : [
            {
              propertyPath: `${at}[${i}].workflowRefs[${j}]`,
              reason: `${JSON.stringify(ref)} must be OWNER/REPO/.github/workflows/FILE.yml@refs/... with a literal owner, repository and file`,
            },
          ],
    ),
    ...(repositoryId !== undefined && !/^[1-9]\d*$/.test(repositoryId)
      ? [{ propertyPath: `${at}[${i}].repositoryId`, reason: `${JSON.stringify(repositoryId)} must be a number` }]
      : []),
  ]);
}

/** `…/deploy-prod.yml@…` → DeployProd: which file a statement admits, at a glance. */
const fileSid = (workflowRef: string) =>
  (/\/([^/@]+)\.ya?ml@/.exec(workflowRef)?.[1] ?? "")
    .split(/[^A-Za-z0-9]+/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("") || "Workflow";

/** The values matched exactly (StringEquals), and those with a wildcard (StringLike); none empty. */
const byOperator = (values: readonly string[]) => {
  const unique = [...new Set(values)].sort();
  return (
    [
      ["StringEquals", unique.filter((v) => !wildcard.test(v))],
      ["StringLike", unique.filter((v) => wildcard.test(v))],
    ] as const
  ).filter(([, group]) => group.length > 0);
};

/**
 * The trust policy admitting a web-identity session from `providerArn` for a token whose audience
 * is sts.amazonaws.com and that presents, for one of the `trusted` workflow files, one of its
 * subjects and one of its workflow refs (and its repository id, when given).
 */
export function trustPolicy(
  providerArn: string,
  trusted: readonly TrustedWorkflow[],
  role = "pipeline",
): IamPolicyDocument {
  const problems = trustProblems(trusted, role, "trusted");
  if (problems.length > 0) throw new ConfigError(problems, { holder: "trustPolicy" });
  const statements: IamStatement[] = [];
  const sids = new Set<string>();
  for (const workflow of trusted) {
    for (const [subjectOperator, subjects] of byOperator(workflow.subjects)) {
      for (const [refOperator, refs] of byOperator(workflow.workflowRefs)) {
        const condition: IamCondition = {
          StringEquals: {
            [githubOidc.audienceKey]: githubOidc.audience,
            ...(workflow.repositoryId === undefined ? {} : { [githubOidc.repositoryIdKey]: workflow.repositoryId }),
          },
        };
        (condition[subjectOperator] ??= {})[githubOidc.subjectKey] = subjects;
        (condition[refOperator] ??= {})[githubOidc.workflowRefKey] = refs;
        const base = fileSid(refs[0]);
        let sid = base;
        for (let n = 2; sids.has(sid); n++) sid = `${base}${n}`;
        sids.add(sid);
        statements.push({
          Sid: sid,
          Effect: "Allow",
          Principal: { Federated: providerArn },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: condition,
        });
      }
    }
  }
  return { Version: "2012-10-17", Statement: statements };
}
