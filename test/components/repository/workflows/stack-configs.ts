// The configurations the workflow tests render: a dev-like first environment, a prod-like later
// one, and variants that switch each optional feature (token mode, Slack, signing, Node lines).
import { parse as parseYaml } from "yaml";
import { parseStackConfig } from "../../../../config/load";
import type { PreviewStackIdentity, SecretKey, StackConfig } from "../../../../config/schema";
import { pipelineWorkflows } from "../../../../components/repository/workflows/pipeline";
import { renderWorkflow } from "../../../../components/repository/workflows/writer";

const base: Record<string, unknown> = {
  githubOwner: "acme",
  githubRepository: "orders-api",
  appName: "orders-api",
  initialImage: "ghcr.io/acme/orders-api:1.4.2",
  clusterAuth: "eks",
  awsRegion: "eu-west-1",
  smokePaths: ["/healthz", "/v1/orders?limit=1"],
};
const token = {
  clusterAuth: "token",
  clusterEndpoint: "https://k8s.example.com",
  clusterCaData: "QUJD",
  eksClusterName: undefined,
  awsRegion: undefined,
};

const secrets = (on: Partial<Record<SecretKey, boolean>>): Record<SecretKey, boolean> => ({
  ghcrPullToken: false,
  slackWebhook: false,
  ...on,
});

const parse = (
  raw: Record<string, unknown>,
  stack: string,
  on: Partial<Record<SecretKey, boolean>>,
  others: Record<string, PreviewStackIdentity> = {},
) =>
  parseStackConfig(
    Object.fromEntries(Object.entries({ ...base, ...raw }).filter(([, v]) => v !== undefined)),
    stack,
    secrets(on),
    undefined,
    undefined,
    others,
  );

/** The backends the preview and drift workflows log in to: each stack's previews get its own team's token. */
export const pulumiCloud = {
  pulumiBackendUrl: "https://api.pulumi.com",
  pulumiOrganization: "acme",
} as const;
export const devTeam = "orders-dev-previews";
export const prodTeam = "orders-prod-previews";
/** dev's and prod's identities, as each stack file gives them to the other. */
export const stackIdentities: Record<string, PreviewStackIdentity> = {
  dev: { ...pulumiCloud, pulumiTeam: devTeam, gated: false },
  prod: { ...pulumiCloud, pulumiTeam: prodTeam, gated: true },
};
export const s3Backend = {
  pulumiBackendUrl: "s3://acme-pulumi-state/orders?region=eu-west-1",
  pulumiSecretsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
} as const;

/** dev: the first environment, owns the repository-wide workflows, every feature on. */
export const devLike = (): StackConfig =>
  parse(
    {
      eksClusterName: "acme-dev",
      namespace: "orders-dev",
      manageRepoWorkflows: true,
      signImages: true,
      ...pulumiCloud,
      pulumiTeam: devTeam,
    },
    "dev",
    { slackWebhook: true },
    { prod: stackIdentities.prod },
  );

/** The numeric id of prod's team reviewer, acme/release-managers. */
export const releaseManagersId = 3456789;

/** prod: promotes from dev behind reviewers (a user and a team, with its id). */
export const prodLike = (): StackConfig =>
  parse(
    {
      eksClusterName: "acme-prod",
      namespace: "orders",
      promoteFrom: "dev",
      replicas: 18,
      requiredReviewers: ["alice-sre", `acme/release-managers#${releaseManagersId}`],
      smokeMaxLatencySeconds: "1.0",
      ...pulumiCloud,
      pulumiTeam: prodTeam,
    },
    "prod",
    { slackWebhook: true },
    { dev: stackIdentities.dev },
  );

/** Every configuration the workflow tests cover, by a readable name. */
export function allConfigs(): Record<string, StackConfig> {
  return {
    "dev-like": devLike(),
    "prod-like": prodLike(),
    "dev token mode": parse({ ...token, namespace: "orders-dev", manageRepoWorkflows: true, ...s3Backend }, "dev", {}),
    "prod token mode": parse(
      {
        ...token,
        namespace: "orders",
        promoteFrom: "dev",
        requiredReviewers: ["alice-sre"],
        ...s3Backend,
        driftSchedule: "off",
      },
      "prod",
      { slackWebhook: true },
    ),
    "dev, Pulumi Cloud with an organization token": parse(
      {
        eksClusterName: "acme-dev",
        manageRepoWorkflows: true,
        pulumiBackendUrl: "https://api.pulumi.com",
        pulumiOrganization: "acme",
        // An organization token reads every stack: this project previews dev alone.
        previewStacks: ["dev"],
        driftSchedule: "30 2 * * *",
      },
      "dev",
      {},
    ),
    "dev without Slack or signing": parse({ eksClusterName: "acme-dev", signImages: false }, "dev", {}),
    "prod without signing": parse({ eksClusterName: "acme-prod", promoteFrom: "dev", signImages: false }, "prod", {}),
    "staging, three Node lines": parse(
      {
        eksClusterName: "acme-staging",
        environment: "staging",
        nodeVersions: ["22", "24", "26"],
        previewStacks: ["dev", "staging", "acme/orders/prod"],
      },
      "staging",
      { slackWebhook: true },
    ),
    "one Node line, odd names": parse(
      {
        eksClusterName: "acme-dev",
        githubOwner: "Acme-Corp",
        githubRepository: "Orders.API",
        // The image is under the owner's ghcr.io namespace, lower case.
        initialImage: "ghcr.io/acme-corp/orders.api:1.4.2",
        nodeVersions: ["24"],
        deployBranch: "release/v2",
      },
      "dev",
      {},
    ),
  };
}

/** A workflow file as committed: its YAML, and the YAML read back (what GitHub would see). */
export interface RenderedWorkflow {
  readonly path: string;
  readonly content: string;
  readonly workflow: ParsedWorkflow;
}

export interface ParsedStep {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  "continue-on-error"?: boolean;
  "timeout-minutes"?: number;
}
export interface ParsedJob {
  name?: string;
  needs?: string[];
  if?: string;
  "timeout-minutes"?: number;
  environment?: { name: string };
  permissions?: Record<string, string>;
  outputs?: Record<string, string>;
  env?: Record<string, string>;
  steps: ParsedStep[];
}
export interface ParsedWorkflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  env?: Record<string, string>;
  jobs: Record<string, ParsedJob>;
}

/** Every workflow file a stack computes, rendered by the one writer and parsed back. */
export function renderedWorkflows(config: StackConfig): RenderedWorkflow[] {
  return pipelineWorkflows(config).map((file) => {
    const content = renderWorkflow(file, { project: "canary-pipeline", stack: config.stack });
    return { path: file.path, content, workflow: parseYaml(content) as ParsedWorkflow };
  });
}
