// Test helper: renders a small program of the AWS components under the mock engine and reads
// back the IAM documents and registrations, the way `npm run synth` writes them.
import { artifacts } from "../../synth/artifacts";
import { mockAccount, runProgram, type RegisteredResource } from "../../testing/mock-engine";
import { projectName } from "../../config/schema";
import {
  githubOidc,
  jobWorkflowRef,
  oidcSubjects,
  type GithubRepository,
  type JobContext,
  type TrustedWorkflow,
} from "../../components/shared/oidc-subjects";
import { evaluatePolicy, type Decision } from "../../verify/iam-policy";

export interface AwsRender {
  readonly resources: RegisteredResource[];
  readonly outputs: Record<string, unknown>;
  readonly files: Map<string, string>;
  /** The parsed IAM document rendered at `aws/<path>`; throws when absent. */
  readonly document: (path: string) => unknown;
  /** The registrations of one resource type. */
  readonly ofType: (type: string) => RegisteredResource[];
}

export async function renderAws(program: () => unknown): Promise<AwsRender> {
  const { resources, outputs } = await runProgram({
    project: projectName,
    stack: "test",
    config: {},
    secretKeys: [],
    program,
  });
  const files = artifacts(resources);
  return {
    resources,
    outputs,
    files,
    document: (path) => {
      const content = files.get(`aws/${path}`);
      if (content === undefined)
        throw new Error(`aws/${path} was not rendered; rendered: ${[...files.keys()].join(", ")}`);
      return JSON.parse(content) as unknown;
    },
    ofType: (type) => resources.filter((r) => r.type === type),
  };
}

/** The provider ARN the mock engine gives a created GitHub OIDC provider. */
export const mockProviderArn = `arn:aws:iam::${mockAccount.accountId}:oidc-provider/token.actions.githubusercontent.com`;

/** The service repository of the tests; with ids, so the immutable subject form is trusted too. */
export const ordersApi: GithubRepository = {
  owner: "acme",
  name: "orders-api",
  ownerId: 1234567,
  repositoryId: 890123456,
};

/** The claims of a GitHub token, as far as the trust policies look (an absent one is not in the token). */
export interface Token {
  readonly sub?: string;
  readonly workflowRef?: string;
  readonly repositoryId?: string;
}

/** What AWS decides when a GitHub token with these claims (and `aud`) asks to assume a role with this trust policy. */
export function assume(
  trust: unknown,
  token: Token,
  options: { aud?: string | null; provider?: string; action?: string } = {},
): Decision {
  const aud = options.aud === undefined ? githubOidc.audience : (options.aud ?? undefined);
  return evaluatePolicy(trust, {
    action: options.action ?? "sts:AssumeRoleWithWebIdentity",
    principal: { federated: options.provider ?? mockProviderArn },
    context: {
      [githubOidc.subjectKey]: token.sub,
      [githubOidc.audienceKey]: aud,
      [githubOidc.workflowRefKey]: token.workflowRef,
      [githubOidc.repositoryIdKey]: token.repositoryId,
    },
  });
}

/** What the jobs of the workflow file at `path` of `repository` present in `context`, run from `refs`. */
export function trustedFile(
  repository: GithubRepository,
  path: string,
  refs: readonly string[],
  context: JobContext,
): TrustedWorkflow {
  return {
    subjects: oidcSubjects(repository, context),
    workflowRefs: refs.map((ref) => jobWorkflowRef(repository, path, ref)),
    ...(repository.repositoryId === undefined ? {} : { repositoryId: String(repository.repositoryId) }),
  };
}
