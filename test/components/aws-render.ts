// Test helper: renders a small program of the AWS components under the mock engine and reads
// back the IAM documents and registrations, the way `npm run synth` writes them.
import { artifacts } from "../../synth/artifacts";
import { mockAccount, runProgram, type RegisteredResource } from "../../synth/mock-engine";
import { projectName } from "../../config/schema";
import { githubOidc, type GithubRepository } from "../../components/shared/oidc-subjects";
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
  const { resources, outputs } = await runProgram({ project: projectName, stack: "test", config: {}, secretKeys: [], program });
  const files = artifacts(resources);
  return {
    resources,
    outputs,
    files,
    document: (path) => {
      const content = files.get(`aws/${path}`);
      if (content === undefined) throw new Error(`aws/${path} was not rendered; rendered: ${[...files.keys()].join(", ")}`);
      return JSON.parse(content) as unknown;
    },
    ofType: (type) => resources.filter((r) => r.type === type),
  };
}

/** The provider ARN the mock engine gives a created GitHub OIDC provider. */
export const mockProviderArn = `arn:aws:iam::${mockAccount.accountId}:oidc-provider/token.actions.githubusercontent.com`;

/** The service repository of the tests; with ids, so the immutable subject form is trusted too. */
export const ordersApi: GithubRepository = { owner: "acme", name: "orders-api", ownerId: 1234567, repositoryId: 890123456 };

/** What AWS decides when a GitHub token with `sub` (and `aud`) asks to assume a role with this trust policy. */
export function assume(trust: unknown, sub: string | undefined, options: { aud?: string | null; provider?: string; action?: string } = {}): Decision {
  const aud = options.aud === undefined ? githubOidc.audience : options.aud ?? undefined;
  return evaluatePolicy(trust, {
    action: options.action ?? "sts:AssumeRoleWithWebIdentity",
    principal: { federated: options.provider ?? mockProviderArn },
    context: { [githubOidc.subjectKey]: sub, [githubOidc.audienceKey]: aud },
  });
}
