// Bad configurations are refused before any resource exists, one line per problem that names
// the key, the value and what would be valid.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { argsSettingNames, stackSettingNames } from "../../config/errors";
import {
  ConfigError,
  otherOidcProviderCreators,
  otherRepoWorkflowOwners,
  parseStackConfig,
  previewStacksDeployingOtherwise,
} from "../../config/load";
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
    // Unset: the roles' sessions follow the longest deploy job (deployPlan's sessionSeconds).
    assert.equal(c.iamMaxSessionDuration, undefined);
    assert.equal(c.smokeRequests, 20);
    assert.equal(c.canaryBakeSeconds, 300);
    assert.equal(c.canaryAnalysis, undefined);
  });
  test("an analysis gets its defaults, and thresholds given as text become numbers", () => {
    const c = parseStackConfig({ ...validRaw, canaryAnalysis: validAnalysis }, "dev", noSecrets);
    assert.equal(c.canaryAnalysis?.intervalSeconds, 30);
    assert.equal(c.canaryAnalysis?.failureLimit, 1);
    assert.deepEqual(
      c.canaryAnalysis?.metrics.map((m) => [m.max, m.maxOverStable]),
      [
        [0.05, undefined],
        [undefined, 0.2],
      ],
    );
  });
  test("token mode needs no EKS settings", () => {
    assert.deepEqual(
      problems(
        { clusterAuth: "token", clusterEndpoint: "https://k8s.example.com:6443", clusterCaData: "LS0tLS1CRUdJTg==" },
        ["eksClusterName", "awsRegion"],
      ),
      [],
    );
  });
  test("networkPolicyIngress takes namespaces, their pods, IPv4 and IPv6 blocks, and []; livenessPath defaults to healthPath", () => {
    assert.deepEqual(
      problems({
        networkPolicyIngress: [
          { namespace: "ingress-nginx" },
          { namespace: "monitoring", podLabels: { "app.kubernetes.io/name": "prometheus", tier: "" } },
          { cidr: "10.0.0.0/8" },
          { cidr: "0.0.0.0/0" },
          { cidr: "fd00::/8" },
          { cidr: "::/0" },
          { cidr: "::ffff:10.0.0.0/104" },
        ],
      }),
      [],
    );
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
  test("a rule across keys still judges the keys that are valid when another key is refused, even by its type", () => {
    assert.deepEqual(problems({ deployBranch: 5, requiredReviewers: ["alice"], githubOwnerId: 42, initialImage: 7 }), [
      "canary-pipeline:deployBranch: 5 must be a git branch name such as main",
      "canary-pipeline:initialImage: 7 must be an image reference such as ghcr.io/owner/app:1.2.3 or ghcr.io/owner/app@sha256:…",
      "canary-pipeline:githubRepositoryId: is required when the other ID is set: the immutable subject names both owner and repository IDs",
      "canary-pipeline:requiredReviewers: cannot gate the first environment, which deploys every push to the deploy branch on its own: set promoteFrom to make this a promotion environment, or remove the reviewers",
    ]);
  });
  test("a bad value gets its own line only, no line computed from it", () => {
    const analysis = {
      prometheusUrl: "http://prometheus:9090",
      metrics: [{ name: "errors", query: "$track", max: 1 }],
    };
    assert.deepEqual(problems({ canaryWeight: 100 }), [
      "canary-pipeline:canaryWeight: 100 must be a percentage from 1 to 50",
    ]);
    assert.deepEqual(problems({ replicas: 0, canaryWeight: 33 }), [
      "canary-pipeline:replicas: 0 must be a whole number from 1 to 100",
    ]);
    assert.deepEqual(problems({ canaryBakeSeconds: -1, canaryAnalysis: analysis }), [
      "canary-pipeline:canaryBakeSeconds: -1 must be a number of seconds from 0 to 3600",
    ]);
    assert.deepEqual(problems({ requiredReviewers: "alice", promoteFrom: "dev" }), [
      'canary-pipeline:requiredReviewers: "alice" must be a list of GitHub logins or org/team-slug#team-id',
    ]);
    assert.deepEqual(problems({ nodeVersions: "22" }), [
      'canary-pipeline:nodeVersions: "22" must be a list of Node.js major versions',
    ]);
    assert.deepEqual(problems({ tags: ["a=b", "bad", "a=c"] }), [
      'canary-pipeline:tags[1]: "bad" must be key=value',
      'canary-pipeline:tags: ["a=b","bad","a=c"] must not repeat a key',
    ]);
    assert.deepEqual(
      problems({
        canaryAnalysis: {
          ...analysis,
          metrics: [
            { name: "Errors!", query: "$track", max: 1 },
            { name: "Errors!", query: "$track", max: "x" },
          ],
        },
      }),
      [
        `canary-pipeline:canaryAnalysis.metrics[0].name: "Errors!" must be a DNS-1123 label such as error-ratio (lower-case letters, digits, '-')`,
        `canary-pipeline:canaryAnalysis.metrics[1].name: "Errors!" must be a DNS-1123 label such as error-ratio (lower-case letters, digits, '-')`,
        'canary-pipeline:canaryAnalysis.metrics[1].max: "x" must be a number such as 0.05',
      ],
    );
  });
});

describe("names as the reader wrote them", () => {
  const library = argsSettingNames("CanaryPipeline orders", "settings");
  const refused = (raw: Record<string, unknown>, names = stackSettingNames) => {
    try {
      parseStackConfig(raw, "dev", noSecrets, new Set(), names);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error;
    }
    assert.fail("accepted");
  };
  test("a stack's keys; a program's Args paths after its component", () => {
    const raw = { ...validRaw, awsRegion: "eu-wset-1", canaryAnalysis: { ...validAnalysis, intervalSeconds: 5 } };
    assert.deepEqual(refused(raw).problems, [
      'aws:region: "eu-wset-1" must be an AWS region: did you mean eu-west-1?',
      "canary-pipeline:canaryAnalysis.intervalSeconds: 5 must be a number of seconds from 10 to 600",
    ]);
    const error = refused(raw, library);
    assert.deepEqual(error.problems, [
      'CanaryPipeline orders: settings.awsRegion: "eu-wset-1" must be an AWS region: did you mean eu-west-1?',
      "CanaryPipeline orders: settings.canaryAnalysis.intervalSeconds: 5 must be a number of seconds from 10 to 600",
    ]);
    assert.deepEqual(error.errors, [
      { propertyPath: "settings.awsRegion", reason: '"eu-wset-1" must be an AWS region: did you mean eu-west-1?' },
      {
        propertyPath: "settings.canaryAnalysis.intervalSeconds",
        reason: "5 must be a number of seconds from 10 to 600",
      },
    ]);
    assert.equal(error.holder, "CanaryPipeline orders");
    assert.match(error.message, /^Invalid configuration:\n {2}CanaryPipeline orders: settings\.awsRegion: /);
  });
  test("the fix for a missing setting, and another setting named inside a reason, as each reader sets them", () => {
    const withoutRegion = { ...validRaw };
    delete withoutRegion.awsRegion;
    assert.deepEqual(refused({ ...withoutRegion, kubeconfigContext: "prod" }).problems, [
      "aws:region: is required with clusterAuth eks: set it with `pulumi config set aws:region <value>`",
      "canary-pipeline:kubeconfigContext: applies to clusterAuth token only: eks mode builds its kubeconfig from eksClusterName and aws:region",
    ]);
    assert.deepEqual(refused({ ...withoutRegion, kubeconfigContext: "prod" }, library).problems, [
      "CanaryPipeline orders: settings.awsRegion: is required with clusterAuth eks: add awsRegion to settings",
      "CanaryPipeline orders: settings.kubeconfigContext: applies to clusterAuth token only: eks mode builds its kubeconfig from eksClusterName and awsRegion",
    ]);
    assert.deepEqual(refused({ ...validRaw, canaryAnalysis: { metrics: validAnalysis.metrics } }, library).problems, [
      "CanaryPipeline orders: settings.canaryAnalysis.prometheusUrl: is required: add prometheusUrl to settings.canaryAnalysis",
    ]);
  });
});

describe("driftSchedule: a GitHub Actions cron schedule, judged by cron-parser", () => {
  test("five POSIX fields in range, names and steps included, or off, are accepted", () => {
    for (const schedule of [
      "0 6 * * 1-5",
      "*/15 * * * *",
      "30 2 1,15 * *",
      "0 6 * JAN-MAR MON",
      "0 0 29 2 *",
      "0  6 * * *",
      "off",
    ]) {
      assert.deepEqual(problems({ driftSchedule: schedule }), [], schedule);
    }
  });
  test("out of range, the wrong number of fields, a schedule that never runs, and cron-parser's extensions are refused, naming the field", () => {
    const reason = (schedule: string) =>
      problems({ driftSchedule: schedule })[0]?.replace(
        `canary-pipeline:driftSchedule: ${JSON.stringify(schedule)} must be a cron schedule of five fields (UTC) such as 0 6 * * 1-5, or off: `,
        "",
      );
    assert.equal(
      reason("0 25 * * *"),
      "its hour field 25 is refused (Constraint error, got value 25 expected range 0-23)",
    );
    assert.equal(
      reason("60 6 * * *"),
      "its minute field 60 is refused (Constraint error, got value 60 expected range 0-59)",
    );
    assert.equal(
      reason("0 6 * 13 *"),
      "its month field 13 is refused (Constraint error, got value 13 expected range 1-12)",
    );
    assert.equal(
      reason("0 6 * * 8"),
      "its day-of-week field 8 is refused (Constraint error, got value 8 expected range 0-7)",
    );
    assert.equal(reason("0 6 * *"), "has 4 fields, not five");
    assert.equal(reason("@daily"), "has one field, not five");
    assert.equal(reason("0 6 31 2 *"), "it never runs (Invalid explicit day of month definition)");
    assert.equal(reason("0 6 * * 1#2"), "its day-of-week field 1#2 uses more than * , - / and values");
    assert.equal(reason("0 6 ? * *"), "its day-of-month field ? uses more than * , - / and values");
  });
});

// A stack file's list reaches the program as JSON (`nodeVersions: [22, 24]` gives numbers); a
// library caller may write either form too. Both are accepted and normalised.
describe("numbers or text", () => {
  test('nodeVersions [22, 24] is accepted as the lines "22" and "24"', () => {
    assert.deepEqual(parseStackConfig({ ...validRaw, nodeVersions: [22, 24] }, "dev", noSecrets).nodeVersions, [
      "22",
      "24",
    ]);
    assert.deepEqual(parseStackConfig({ ...validRaw, nodeVersions: [22, "26"] }, "dev", noSecrets).nodeVersions, [
      "22",
      "26",
    ]);
  });
  test("a fractional or negative Node.js version is refused, naming the key", () => {
    assert.deepEqual(problems({ nodeVersions: [22.5] }), [
      "canary-pipeline:nodeVersions[0]: 22.5 must be a Node.js major version such as 24",
    ]);
    assert.deepEqual(problems({ nodeVersions: [-1] }), [
      "canary-pipeline:nodeVersions[0]: -1 must be a Node.js major version such as 24",
    ]);
  });
  test('smokeMaxLatencySeconds 1.5 and "1.5" are both 1.5 seconds', () => {
    for (const value of [1.5, "1.5"])
      assert.equal(
        parseStackConfig({ ...validRaw, smokeMaxLatencySeconds: value }, "dev", noSecrets).smokeMaxLatencySeconds,
        1.5,
        JSON.stringify(value),
      );
    // Requests cut off at 61 s make a long smoke test: the canary's lifetime must outlast its job.
    assert.equal(
      parseStackConfig({ ...validRaw, smokeMaxLatencySeconds: 60, canaryLifetimeMinutes: 120 }, "dev", noSecrets)
        .smokeMaxLatencySeconds,
      60,
    );
  });
  test("smokeMaxLatencySeconds as a number still refuses 0, negatives, more than 60 and non-numbers", () => {
    const line = (value: unknown) => problems({ smokeMaxLatencySeconds: value });
    assert.deepEqual(line(0), ["canary-pipeline:smokeMaxLatencySeconds: 0 must be more than 0 seconds"]);
    assert.deepEqual(line(-2), ["canary-pipeline:smokeMaxLatencySeconds: -2 must be more than 0 seconds"]);
    assert.deepEqual(line(61), ["canary-pipeline:smokeMaxLatencySeconds: 61 must be at most 60 seconds"]);
    assert.deepEqual(line(true), [
      "canary-pipeline:smokeMaxLatencySeconds: true must be a positive number of seconds such as 1.5",
    ]);
    assert.deepEqual(line("-2"), [
      'canary-pipeline:smokeMaxLatencySeconds: "-2" must be a positive number of seconds such as 1.5',
    ]);
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
  const stackFile = (accounts: string[] | undefined, providerArn?: string) =>
    "config:\n" +
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
    write(
      "prod",
      stackFile(["123456789012"], "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"),
    );
    assert.deepEqual(otherOidcProviderCreators(dir, "dev", ["123456789012"]), []);
  });
});

describe("settings the GitHub plan can honour", () => {
  const reviewed = { ...validRaw, promoteFrom: "dev", requiredReviewers: ["alice"] };
  test("reviewers in a public repository, or on Enterprise, are accepted", () => {
    assert.doesNotThrow(() =>
      parseStackConfig({ ...reviewed, githubRepositoryVisibility: "public", githubPlan: "free" }, "prod", noSecrets),
    );
    assert.doesNotThrow(() =>
      parseStackConfig(
        { ...reviewed, githubRepositoryVisibility: "private", githubPlan: "enterprise" },
        "prod",
        noSecrets,
      ),
    );
  });
  test("a private repository on Team holds environments without reviewers", () => {
    assert.doesNotThrow(() =>
      parseStackConfig({ ...validRaw, githubRepositoryVisibility: "private", githubPlan: "team" }, "dev", noSecrets),
    );
  });
  test("without the plan or the visibility, nothing is assumed", () => {
    assert.doesNotThrow(() =>
      parseStackConfig({ ...reviewed, githubRepositoryVisibility: "private" }, "prod", noSecrets),
    );
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
