// Bad configurations are refused before any resource exists, one line per problem that names
// the key, the value and what would be valid.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ConfigError, otherRepoWorkflowOwners, parseStackConfig } from "../../config/load";

const noSecrets = { ghcrPullToken: false, slackWebhook: false, pulumiAccessToken: false };

/** A complete, valid eks-mode configuration; each case below breaks one thing. */
export const validRaw: Record<string, unknown> = {
  githubOwner: "acme",
  githubRepository: "orders-api",
  appName: "orders-api",
  initialImage: "ghcr.io/acme/orders-api:1.4.2",
  clusterAuth: "eks",
  eksClusterName: "acme-dev",
  awsRegion: "eu-west-1",
};

function problems(overrides: Record<string, unknown>, remove: string[] = []): string[] {
  const raw = { ...validRaw, ...overrides };
  for (const key of remove) delete raw[key];
  try {
    parseStackConfig(raw, "dev", noSecrets);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.doesNotMatch(error.message, /\n\s+at /, "no stack trace in the message");
    return error.problems;
  }
  return [];
}

describe("valid configuration", () => {
  test("defaults are resolved", () => {
    const c = parseStackConfig(validRaw, "dev", noSecrets);
    assert.equal(c.environment, "dev");
    assert.equal(c.namespace, "orders-api");
    assert.equal(c.deployBranch, "main");
    assert.equal(c.replicas, 9);
    assert.equal(c.canaryWeight, 10);
    assert.equal(c.containerPort, 3000);
    assert.deepEqual(c.smokePaths, ["/healthz"]);
    assert.equal(c.smokeMaxLatencySeconds, 1.5);
    assert.deepEqual(c.scanSeverity, ["HIGH", "CRITICAL"]);
    assert.deepEqual(c.nodeVersions, ["22", "24", "26"]);
    assert.equal(c.signImages, true);
    assert.equal(c.createNamespace, true);
    assert.equal(c.iamMaxSessionDuration, 3600);
  });
  test("token mode needs no EKS settings", () => {
    assert.deepEqual(problems({ clusterAuth: "token", clusterEndpoint: "https://k8s.example.com:6443", clusterCaData: "LS0tLS1CRUdJTg==" }, ["eksClusterName", "awsRegion"]), []);
  });
  test("an image pinned by digest is accepted", () => {
    assert.deepEqual(problems({ initialImage: `ghcr.io/acme/orders-api@sha256:${"a".repeat(64)}` }), []);
  });
});

// Each case: the overrides, the keys removed, and the exact line expected among the problems.
const cases: [string, Record<string, unknown>, string[], string][] = [
  ["missing owner", {}, ["githubOwner"], "canary-pipeline:githubOwner: is required: set it with `pulumi config set canary-pipeline:githubOwner <value>`"],
  ["owner with a slash", { githubOwner: "acme/x" }, [], 'canary-pipeline:githubOwner: "acme/x" must be a GitHub user or organisation login (letters, digits, single hyphens, at most 39)'],
  ["owner with a leading hyphen", { githubOwner: "-acme" }, [], 'canary-pipeline:githubOwner: "-acme" must be a GitHub user or organisation login (letters, digits, single hyphens, at most 39)'],
  ["repository with a space", { githubRepository: "orders api" }, [], `canary-pipeline:githubRepository: "orders api" must be a GitHub repository name (letters, digits, '.', '-', '_', at most 100)`],
  ["repository named ..", { githubRepository: ".." }, [], `canary-pipeline:githubRepository: ".." must be a GitHub repository name (letters, digits, '.', '-', '_', at most 100)`],
  ["owner id without repository id", { githubOwnerId: 42 }, [], "canary-pipeline:githubRepositoryId: is required when the other ID is set: the immutable subject names both owner and repository IDs"],
  ["unreachable canary weight", { canaryWeight: 33 }, [], "canary-pipeline:canaryWeight: 33 is not reachable with 9 stable replicas: 4 canary pods give 30.8%, 5 give 35.7%"],
  ["canary weight over 50", { canaryWeight: 60 }, [], "canary-pipeline:canaryWeight: 60 must be a percentage from 1 to 50"],
  ["replicas of 0", { replicas: 0 }, [], "canary-pipeline:replicas: 0 must be a whole number from 1 to 100"],
  ["fractional replicas", { replicas: 2.5 }, [], "canary-pipeline:replicas: 2.5 must be a whole number from 1 to 100"],
  ["latest image", { initialImage: "ghcr.io/acme/orders-api:latest" }, [], `canary-pipeline:initialImage: "ghcr.io/acme/orders-api:latest" must not use the tag latest: pin a version tag or a digest`],
  ["image without a tag", { initialImage: "ghcr.io/acme/orders-api" }, [], `canary-pipeline:initialImage: "ghcr.io/acme/orders-api" must name a tag or a digest (ghcr.io/owner/app:1.2.3): an untagged image means latest`],
  ["unknown clusterAuth", { clusterAuth: "kubeconfig" }, [], 'canary-pipeline:clusterAuth: "kubeconfig" must be eks (IAM role through OIDC) or token (ServiceAccount kubeconfig)'],
  ["eks without a cluster name", {}, ["eksClusterName"], "canary-pipeline:eksClusterName: is required with clusterAuth eks: set it to the EKS cluster's name"],
  ["eks without a region", {}, ["awsRegion"], "aws:region: is required with clusterAuth eks: set aws:region"],
  ["token mode without endpoint", { clusterAuth: "token", clusterCaData: "LS0tLS1CRUdJTg==" }, [], "canary-pipeline:clusterEndpoint: is required with clusterAuth token: set it to the API server's https:// URL"],
  ["plain-http endpoint", { clusterAuth: "token", clusterEndpoint: "http://k8s.example.com", clusterCaData: "LS0tLS1CRUdJTg==" }, [], `canary-pipeline:clusterEndpoint: "http://k8s.example.com" must be the cluster API server's https:// URL`],
  ["CA data not base64", { clusterAuth: "token", clusterEndpoint: "https://k8s.example.com", clusterCaData: "not base64!" }, [], `canary-pipeline:clusterCaData: "not base64!" must be the cluster CA certificate, base64-encoded PEM`],
  ["namespace with capitals", { namespace: "Orders" }, [], `canary-pipeline:namespace: "Orders" must be a DNS-1123 label (lower-case letters, digits, '-', at most 63)`],
  ["namespace too long", { namespace: "a".repeat(64) }, [], `canary-pipeline:namespace: "${"a".repeat(64)}" must be at most 63 characters (DNS-1123 label)`],
  ["session duration too short", { iamMaxSessionDuration: 900 }, [], "canary-pipeline:iamMaxSessionDuration: 900 must be a number of seconds from 3600 to 43200"],
  ["session duration too long", { iamMaxSessionDuration: 86400 }, [], "canary-pipeline:iamMaxSessionDuration: 86400 must be a number of seconds from 3600 to 43200"],
  ["malformed provider ARN", { oidcProviderArn: "arn:aws:iam::12345:oidc-provider/token.actions.githubusercontent.com" }, [], `canary-pipeline:oidcProviderArn: "arn:aws:iam::12345:oidc-provider/token.actions.githubusercontent.com" must be the ARN of an IAM OIDC provider for token.actions.githubusercontent.com`],
  ["provider ARN of another issuer", { oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/accounts.google.com" }, [], `canary-pipeline:oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/accounts.google.com" must be the ARN of an IAM OIDC provider for token.actions.githubusercontent.com`],
  ["seven reviewers", { requiredReviewers: ["a", "b", "c", "d", "e", "f", "g"] }, [], `canary-pipeline:requiredReviewers: ["a","b","c","d","e","f","g"] must name at most 6 reviewers (GitHub's limit per environment)`],
  ["end-of-life Node.js", { nodeVersions: ["18", "24"] }, [], "canary-pipeline:nodeVersions[0]: Node.js 18 reached end of life on 2025-04-30: use 22, 24, 26"],
  ["Node.js version not a major", { nodeVersions: ["lts/*"] }, [], 'canary-pipeline:nodeVersions[0]: "lts/*" must be a Node.js major version such as 24'],
  ["unknown scan severity", { scanSeverity: "HIGH,SEVERE" }, [], `canary-pipeline:scanSeverity: "HIGH,SEVERE" must be a comma-separated list of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL`],
  ["relative health path", { healthPath: "healthz" }, [], `canary-pipeline:healthPath: "healthz" must be an absolute URL path such as /healthz`],
  ["port out of range", { containerPort: 70000 }, [], "canary-pipeline:containerPort: 70000 must be a port from 1 to 65535"],
  ["latency as text", { smokeMaxLatencySeconds: "fast" }, [], `canary-pipeline:smokeMaxLatencySeconds: "fast" must be a positive number of seconds such as 1.5`],
  ["misspelt key", { replica: 3 }, [], "canary-pipeline:replica: is not a setting of this project: see Pulumi.yaml for the valid keys"],
  ["branch with ..", { deployBranch: "main..x" }, [], `canary-pipeline:deployBranch: "main..x" must be a git branch name such as main`],
  ["boolean as text", { signImages: "yes" }, [], `canary-pipeline:signImages: "yes" must be true or false`],
  ["promote from itself", { environment: "prod", promoteFrom: "prod" }, [], `canary-pipeline:promoteFrom: "prod" must name another environment than this stack's own`],
  ["tag without =", { tags: ["team"] }, [], `canary-pipeline:tags[0]: "team" must be key=value`],
];

describe("bad configurations are refused with their message", () => {
  for (const [name, overrides, remove, expected] of cases) {
    test(name, () => {
      const found = problems(overrides, remove);
      assert.ok(found.includes(expected), `expected the line\n  ${expected}\namong\n  ${found.join("\n  ")}`);
    });
  }
  test("every problem is reported at once", () => {
    assert.equal(problems({ replicas: 0, clusterAuth: "x", githubOwner: "-" }).length, 3);
  });
});

describe("two stacks of one repository owning the repository-wide workflows", () => {
  const dir = mkdtempSync(join(tmpdir(), "stacks-"));
  writeFileSync(join(dir, "Pulumi.yaml"), "name: canary-pipeline\nruntime: nodejs\n");
  const stackFile = (owner: string, claims: boolean) =>
    `config:\n  canary-pipeline:githubOwner: ${owner}\n  canary-pipeline:githubRepository: orders-api\n  canary-pipeline:manageRepoWorkflows: ${claims}\n`;
  const config = { stack: "dev", githubOwner: "acme", githubRepository: "orders-api" };
  test("a second claim for the same repository is found", () => {
    writeFileSync(join(dir, "Pulumi.dev.yaml"), stackFile("acme", true));
    writeFileSync(join(dir, "Pulumi.prod.yaml"), stackFile("acme", true));
    assert.deepEqual(otherRepoWorkflowOwners(dir, config), ["prod"]);
  });
  test("a stack of another repository, or one that does not claim, is no rival", () => {
    writeFileSync(join(dir, "Pulumi.prod.yaml"), stackFile("acme", false));
    writeFileSync(join(dir, "Pulumi.other.yaml"), stackFile("globex", true));
    assert.deepEqual(otherRepoWorkflowOwners(dir, config), []);
  });
});
