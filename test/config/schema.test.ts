// Bad configurations are refused before any resource exists, one line per problem that names
// the key, the value and what would be valid.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ConfigError, otherOidcProviderCreators, otherRepoWorkflowOwners, parseStackConfig, previewStacksDeployingOtherwise } from "../../config/load";
import { badConfigurations as cases, validAnalysis, validRaw } from "../fixtures/bad-configurations";

const noSecrets = { ghcrPullToken: false, slackWebhook: false };


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
    assert.equal(c.smokeRequests, 20);
    assert.equal(c.canaryBakeSeconds, 300);
    assert.equal(c.canaryAnalysis, undefined);
  });
  test("an analysis gets its defaults, and thresholds given as text become numbers", () => {
    const c = parseStackConfig({ ...validRaw, canaryAnalysis: validAnalysis }, "dev", noSecrets);
    assert.equal(c.canaryAnalysis?.intervalSeconds, 30);
    assert.equal(c.canaryAnalysis?.failureLimit, 1);
    assert.deepEqual(c.canaryAnalysis?.metrics.map((m) => [m.max, m.maxOverStable]), [[0.05, undefined], [undefined, 0.2]]);
  });
  test("token mode needs no EKS settings", () => {
    assert.deepEqual(problems({ clusterAuth: "token", clusterEndpoint: "https://k8s.example.com:6443", clusterCaData: "LS0tLS1CRUdJTg==" }, ["eksClusterName", "awsRegion"]), []);
  });
  test("networkPolicyIngress takes namespaces, their pods, IPv4 and IPv6 blocks, and []; livenessPath defaults to healthPath", () => {
    assert.deepEqual(problems({ networkPolicyIngress: [
      { namespace: "ingress-nginx" }, { namespace: "monitoring", podLabels: { "app.kubernetes.io/name": "prometheus", tier: "" } },
      { cidr: "10.0.0.0/8" }, { cidr: "0.0.0.0/0" }, { cidr: "fd00::/8" }, { cidr: "::/0" }, { cidr: "::ffff:10.0.0.0/104" },
    ] }), []);
    assert.deepEqual(problems({ networkPolicyIngress: [] }), []);
    const c = parseStackConfig(validRaw, "dev", noSecrets);
    assert.equal(c.networkPolicyIngress, undefined);
    assert.equal(c.livenessPath, "/healthz");
    assert.equal(parseStackConfig({ ...validRaw, livenessPath: "/livez" }, "dev", noSecrets).livenessPath, "/livez");
  });
  test("an image pinned by digest is accepted", () => {
    assert.deepEqual(problems({ initialImage: `ghcr.io/acme/orders-api@sha256:${"a".repeat(64)}` }), []);
  });
});

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

// A stack file's list reaches the program as JSON (`nodeVersions: [22, 24]` gives numbers); a
// library caller may write either form too. Both are accepted and normalised.
describe("numbers or text", () => {
  test("nodeVersions [22, 24] is accepted as the lines \"22\" and \"24\"", () => {
    assert.deepEqual(parseStackConfig({ ...validRaw, nodeVersions: [22, 24] }, "dev", noSecrets).nodeVersions, ["22", "24"]);
    assert.deepEqual(parseStackConfig({ ...validRaw, nodeVersions: [22, "26"] }, "dev", noSecrets).nodeVersions, ["22", "26"]);
  });
  test("a fractional or negative Node.js version is refused, naming the key", () => {
    assert.deepEqual(problems({ nodeVersions: [22.5] }), ["canary-pipeline:nodeVersions[0]: 22.5 must be a Node.js major version such as 24"]);
    assert.deepEqual(problems({ nodeVersions: [-1] }), ["canary-pipeline:nodeVersions[0]: -1 must be a Node.js major version such as 24"]);
  });
  test("smokeMaxLatencySeconds 1.5 and \"1.5\" are both 1.5 seconds", () => {
    for (const value of [1.5, "1.5"]) assert.equal(parseStackConfig({ ...validRaw, smokeMaxLatencySeconds: value }, "dev", noSecrets).smokeMaxLatencySeconds, 1.5, JSON.stringify(value));
    // Requests cut off at 61 s make a long smoke test: the canary's lifetime must outlast its job.
    assert.equal(parseStackConfig({ ...validRaw, smokeMaxLatencySeconds: 60, canaryLifetimeMinutes: 120 }, "dev", noSecrets).smokeMaxLatencySeconds, 60);
  });
  test("smokeMaxLatencySeconds as a number still refuses 0, negatives, more than 60 and non-numbers", () => {
    const line = (value: unknown) => problems({ smokeMaxLatencySeconds: value });
    assert.deepEqual(line(0), ["canary-pipeline:smokeMaxLatencySeconds: 0 must be more than 0 seconds"]);
    assert.deepEqual(line(-2), ["canary-pipeline:smokeMaxLatencySeconds: -2 must be more than 0 seconds"]);
    assert.deepEqual(line(61), ["canary-pipeline:smokeMaxLatencySeconds: 61 must be at most 60 seconds"]);
    assert.deepEqual(line(true), ["canary-pipeline:smokeMaxLatencySeconds: true must be a positive number of seconds such as 1.5"]);
    assert.deepEqual(line("-2"), ['canary-pipeline:smokeMaxLatencySeconds: "-2" must be a positive number of seconds such as 1.5']);
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

describe("two stacks creating the AWS account's one GitHub OIDC provider", () => {
  const dir = mkdtempSync(join(tmpdir(), "stacks-"));
  writeFileSync(join(dir, "Pulumi.yaml"), "name: canary-pipeline\nruntime: nodejs\n");
  const stackFile = (accounts: string[] | undefined, providerArn?: string) => "config:\n" +
    (accounts ? `  aws:allowedAccountIds:\n${accounts.map((a) => `    - "${a}"\n`).join("")}` : "") +
    (providerArn ? `  canary-pipeline:oidcProviderArn: ${providerArn}\n` : "");
  const write = (stack: string, text: string) => writeFileSync(join(dir, `Pulumi.${stack}.yaml`), text);
  write("dev", stackFile(["123456789012"]));
  test("another stack of the same account that creates it too is found", () => {
    write("prod", stackFile(["123456789012"]));
    assert.deepEqual(otherOidcProviderCreators(dir, "dev", ["123456789012"]), ["prod"]);
  });
  test("a stack that names no account may share this one's: found", () => {
    write("prod", stackFile(undefined));
    assert.deepEqual(otherOidcProviderCreators(dir, "dev", ["123456789012"]), ["prod"]);
    assert.deepEqual(otherOidcProviderCreators(dir, "dev", undefined), ["prod"]);
  });
  test("a stack whose own file is elsewhere (--config-file) is compared with none", () => {
    write("prod", stackFile(["123456789012"]));
    assert.deepEqual(otherOidcProviderCreators(dir, "staging", ["123456789012"]), []);
  });
  test("a stack of another account, or one that adopts the provider, is no rival", () => {
    write("prod", stackFile(["210987654321"]));
    assert.deepEqual(otherOidcProviderCreators(dir, "dev", ["123456789012"]), []);
    write("prod", stackFile(["123456789012"], "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"));
    assert.deepEqual(otherOidcProviderCreators(dir, "dev", ["123456789012"]), []);
  });
});

describe("settings the GitHub plan can honour", () => {
  const reviewed = { ...validRaw, promoteFrom: "dev", requiredReviewers: ["alice"] };
  test("reviewers in a public repository, or on Enterprise, are accepted", () => {
    assert.doesNotThrow(() => parseStackConfig({ ...reviewed, githubRepositoryVisibility: "public", githubPlan: "free" }, "prod", noSecrets));
    assert.doesNotThrow(() => parseStackConfig({ ...reviewed, githubRepositoryVisibility: "private", githubPlan: "enterprise" }, "prod", noSecrets));
  });
  test("a private repository on Team holds environments without reviewers", () => {
    assert.doesNotThrow(() => parseStackConfig({ ...validRaw, githubRepositoryVisibility: "private", githubPlan: "team" }, "dev", noSecrets));
  });
  test("without the plan or the visibility, nothing is assumed", () => {
    assert.doesNotThrow(() => parseStackConfig({ ...reviewed, githubRepositoryVisibility: "private" }, "prod", noSecrets));
  });
});

describe("preview stacks deploying as the stack that previews them", () => {
  const dir = mkdtempSync(join(tmpdir(), "stacks-"));
  writeFileSync(join(dir, "Pulumi.yaml"), "name: canary-pipeline\nruntime: nodejs\n");
  writeFileSync(join(dir, "Pulumi.dev.yaml"), "config:\n  canary-pipeline:clusterAuth: eks\n");
  const config = { stack: "dev", previewStacks: ["dev", "prod"], clusterAuth: "eks" as const };
  test("a preview stack in token mode is found; eks by default is not", () => {
    writeFileSync(join(dir, "Pulumi.prod.yaml"), "config:\n  canary-pipeline:clusterAuth: token\n");
    assert.deepEqual(previewStacksDeployingOtherwise(dir, config), ["prod"]);
    writeFileSync(join(dir, "Pulumi.prod.yaml"), "config:\n  canary-pipeline:replicas: 3\n");
    assert.deepEqual(previewStacksDeployingOtherwise(dir, config), []);
  });
  test("a stack that is not previewed may deploy otherwise", () => {
    writeFileSync(join(dir, "Pulumi.sandbox.yaml"), "config:\n  canary-pipeline:clusterAuth: token\n");
    assert.deepEqual(previewStacksDeployingOtherwise(dir, config), []);
  });
});
