// The project run as the README says (docs/verification.md, "The real tier"): in a copy of the
// repository, `pulumi stack init`, `pulumi config set` and `pulumi config set --secret`, then
// `pulumi preview`, `up` and `destroy` with the real CLI, which validates the stack's settings
// against the project's own Pulumi.yaml and starts index.ts through the Node.js language host;
// the kubernetes and command plugins are real, aws and github are the stand-ins.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { parse, stringify } from "yaml";
import * as fs from "node:fs";
import * as path from "node:path";
import type { StackConfig } from "../../config/schema";
import { apiResourceOf } from "../../components/shared/rbac-rules";
import { projectName } from "../../config/schema";
import { renderStack } from "../../synth/render";
import { securePlaceholder } from "../../config/stack-file";
import { adminKubectl, clusterAccess, namespaceExists, waitUntil } from "./tier";
import { repoRoot } from "../../test-control-plane/control-plane";
import { deploymentState, writeSmokeReport } from "./release";
import {
  awsCliStandin,
  previewJson,
  projectCopy,
  standinCalls,
  type ProjectCopy,
} from "../../test-control-plane/project";

const ns = "orders-cli";
/** The settings a token stack needs, as `pulumi config set` takes them (the cluster's, once it runs). */
const tokenSettings = ({ server, caData } = clusterAccess()): [key: string, value: string][] => [
  ["githubOwner", "acme"],
  ["githubRepository", "orders-api"],
  ["appName", "orders-api"],
  ["namespace", ns],
  ["clusterAuth", "token"],
  ["clusterEndpoint", server],
  ["clusterCaData", caData],
  ["initialImage", "ghcr.io/acme/orders-api:1.4.2"],
  // 2 stable pods and 1 canary pod, no minReadySeconds: quick rollouts.
  ["replicas", "2"],
  ["canaryWeight", "33"],
  ["minReadySeconds", "0"],
];
/** The account this stack names; the stand-in answers as it (dev's file names another one). */
const account = "210987654321";
const secrets = {
  ghcrPullToken: `ghp_${randomBytes(18).toString("hex")}`,
  slackWebhook: `https://hooks.slack.com/services/T0000/B0000/${randomBytes(12).toString("hex")}`,
};
/** What the smoke-test report's URL is made of. */
const reportConfig = { appName: "orders-api", namespace: ns, healthPath: "/healthz" } as StackConfig;

/** A URN's resource type: the last of its type chain. */
const typeOf = (urn: string) => urn.split("::")[2].split("$").pop()!;

/** The steps of a preview that change a resource. */
const changingOps = new Set(["create", "update", "delete", "replace", "create-replacement", "delete-replaced"]);

/**
 * The URNs whose inputs differ between two offline renders of this stack (the mock engine): with
 * the settings above, and with `changes` on top. Secrets are placeholders in both.
 */
async function offlineChanges(changes: Record<string, string>): Promise<string[]> {
  const config = Object.fromEntries(
    [...tokenSettings(), ...Object.keys(secrets).map((k) => [k, securePlaceholder(k)])].map(([k, v]) => [
      `${projectName}:${k}`,
      v,
    ]),
  );
  const secretKeys = Object.keys(secrets).map((k) => `${projectName}:${k}`);
  const render = async (c: Record<string, string>) =>
    new Map(
      (
        await renderStack({
          stack: "tier",
          settings: { config: { ...c, "aws:allowedAccountIds": JSON.stringify([account]) }, secretKeys },
        })
      ).resources
        .filter((r) => r.custom)
        .map((r) => [r.urn, JSON.stringify(r.inputs)]),
    );
  const before = await render(config);
  const after = await render({
    ...config,
    ...Object.fromEntries(Object.entries(changes).map(([k, v]) => [`${projectName}:${k}`, v])),
  });
  return [...new Set([...before.keys(), ...after.keys()])].filter((urn) => before.get(urn) !== after.get(urn)).sort();
}

describe("the project through the CLI, token mode", () => {
  let project: ProjectCopy;
  before(() => {
    project = projectCopy("token", { CANARY_STANDIN_AWS_ACCOUNT_ID: account });
  });
  after(() => {
    project?.pulumi(["destroy", "--yes", "--stack", "tier"]);
    project?.pulumi(["stack", "rm", "--yes", "--force", "tier"]);
    adminKubectl(["delete", "namespace", ns, "--ignore-not-found", "--wait=false"]);
  });

  test("1. stack init, config set and config set --secret, then preview and up: every object created, the smoke test after up fails on a failing report and passes on a passing one, the outputs are there", () => {
    project.ok(["stack", "init", "tier"]);
    for (const [key, value] of tokenSettings()) project.ok(["config", "set", key, value]);
    project.ok(["config", "set", "--path", "aws:allowedAccountIds[0]", account]);
    for (const [key, value] of Object.entries(secrets))
      project.ok(["config", "set", "--secret", key], { input: value });
    const preview = project.ok(["preview", "--json"]);
    const creates = previewJson(preview).steps.filter((s) => s.op === "create");
    assert.ok(
      creates.some((s) => s.urn.endsWith("::orders-api-cluster-smoke-test-command")),
      "the smoke test is planned",
    );
    assert.ok(creates.length > 30, `${creates.length} creates`);

    // Seen failing first: a failing report fails `pulumi up`, after every other object exists.
    writeSmokeReport(reportConfig, "fail");
    const failed = project.pulumi(["up", "--yes", "--skip-preview"]);
    assert.notEqual(failed.status, 0, "a failing smoke report fails pulumi up");
    assert.match(failed.stdout + failed.stderr, /RESULT fail/);
    assert.deepEqual(deploymentState(ns, "orders-api"), {
      image: "ghcr.io/acme/orders-api:1.4.2",
      replicas: 2,
      ready: 2,
    });

    writeSmokeReport(reportConfig, "pass");
    project.ok(["up", "--yes", "--skip-preview"]);
    const state = JSON.parse(project.ok(["stack", "export"])) as {
      deployment: {
        resources: {
          type: string;
          urn: string;
          id?: string;
          inputs: { metadata?: { name: string; namespace?: string } };
        }[];
      };
    };
    const resources = state.deployment.resources;
    const kubernetes = resources.filter(
      (r) => r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes" && r.inputs.metadata,
    );
    assert.ok(kubernetes.length >= 15, `${kubernetes.length} Kubernetes objects`);
    for (const r of kubernetes) {
      const { group, resource } = apiResourceOf(r.type);
      const { name, namespace } = r.inputs.metadata!;
      assert.doesNotThrow(
        () =>
          adminKubectl([
            "get",
            group ? `${resource}.${group}` : resource,
            name,
            "--output",
            "name",
            ...(namespace ? ["--namespace", namespace] : []),
          ]),
        `${r.urn} exists`,
      );
    }
    const created = new Set(
      standinCalls(project)
        .filter((c) => c.method === "create")
        .map((c) => c.urn),
    );
    const standins = resources.filter((r) => /^(aws|github):/.test(r.type));
    assert.ok(
      standins.length > 5 && standins.every((r) => created.has(r.urn)),
      "every aws and github resource was created through its plugin",
    );
    const command = resources.find((r) => r.type === "command:local:Command");
    assert.ok(command, "the smoke test's command is in the state");
    const outputs = JSON.parse(project.ok(["stack", "output", "--json"])) as Record<string, unknown>;
    assert.equal(outputs.namespace, ns);
    assert.match(
      String(outputs.oidcProviderArn),
      new RegExp(`^arn:aws:iam::${account}:oidc-provider/token\\.actions\\.githubusercontent\\.com$`),
    );
  });

  test("2. a second up changes nothing; after one setting changes, preview --diff proposes exactly what the offline render says changed", async () => {
    project.ok(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
    project.ok(["preview", "--expect-no-changes"]);
    project.ok(["config", "set", "smokeMaxLatencySeconds", "2"]);
    const { steps } = previewJson(project.ok(["preview", "--diff", "--json"]));
    const proposed = [...new Set(steps.filter((s) => changingOps.has(s.op)).map((s) => s.urn))].sort();
    const expected = await offlineChanges({ smokeMaxLatencySeconds: "2" });
    // The latency bound goes into the smoke test's script (the command after up) and the deploy workflow.
    assert.ok(
      expected.some((urn) => urn.endsWith("::orders-api-cluster-smoke-test-command")),
      expected.join("\n"),
    );
    assert.deepEqual(proposed, expected);
    project.ok(["config", "set", "smokeMaxLatencySeconds", "1.5"]);
    project.ok(["preview", "--expect-no-changes"]);
  });

  test("3. a secret set with --secret is never in plain text: not in the state, the CLI's output or the plugins' records", () => {
    // Everything the CLI printed in scenarios 1, 2 and this one, before it is asked to show secrets.
    const exported = project.ok(["stack", "export"]);
    const printed = [...project.printed];
    const revealed = project.ok(["stack", "export", "--show-secrets"]);
    const records = fs.readFileSync(project.standinLog, "utf8");
    const stackFile = fs.readFileSync(path.join(project.dir, "Pulumi.tier.yaml"), "utf8");
    const b64 = (text: string) => Buffer.from(text).toString("base64");
    // The pull token reaches the state inside the pull Secret's data: .dockerconfigjson, base64.
    const pullSecret = (
      JSON.parse(revealed) as {
        deployment: { resources: { urn: string; inputs: { data?: { plaintext?: string } } }[] };
      }
    ).deployment.resources.find((r) => r.urn.endsWith("::orders-api-cluster-ghcr-pull-secret"));
    const dockerConfig =
      (JSON.parse(pullSecret?.inputs.data?.plaintext ?? "{}") as Record<string, string>)[".dockerconfigjson"] ?? "";
    assert.equal(
      (JSON.parse(Buffer.from(dockerConfig, "base64").toString()) as { auths: Record<string, { password: string }> })
        .auths["ghcr.io"].password,
      secrets.ghcrPullToken,
    );
    for (const [key, value] of Object.entries(secrets)) {
      // As given, base64-encoded, as a registry's auth (user:token, base64) and as the pull Secret's data.
      const forms = [value, b64(value), b64(`acme:${value}`), ...(key === "ghcrPullToken" ? [dockerConfig] : [])];
      const found = (text: string) => forms.some((form) => text.includes(form));
      assert.ok(key === "ghcrPullToken" || found(revealed), `${key} is in the state, encrypted`);
      assert.ok(!found(exported), `${key} in pulumi stack export`);
      assert.ok(!found(stackFile), `${key} in the stack file`);
      assert.ok(!found(records), `${key} in the stand-ins' records`);
      assert.ok(!printed.some(found), `${key} in the CLI's output`);
    }
    assert.match(records, /\[secret\]/, "the stand-ins received secrets, and recorded them as such");
    // And they are the stack's: the CLI shows them when asked (after the checks of what it printed).
    for (const [key, value] of Object.entries(secrets))
      assert.equal(project.ok(["config", "get", key]).trim(), value, key);
  });

  test("4. a bad setting stops preview with the line that names it, before any resource registers", () => {
    const before = standinCalls(project).length;
    project.ok(["config", "set", "replicas", "0"]);
    const refused = project.pulumi(["preview"]);
    project.ok(["config", "set", "replicas", "2"]);
    const printed = refused.stdout + refused.stderr;
    assert.notEqual(refused.status, 0);
    // The program's one problem, under the CLI's "error: Invalid configuration:".
    assert.deepEqual(
      printed
        .split("\n")
        .filter((line) => /^\s+canary-pipeline:/.test(line))
        .map((line) => line.trim()),
      ["canary-pipeline:replicas: 0 must be a whole number from 1 to 100"],
      printed,
    );
    assert.doesNotMatch(printed, /^\s+at /m, "no stack trace");
    // The refresh before the preview reads (and diffs) what exists; the program registers nothing.
    assert.deepEqual(
      standinCalls(project)
        .slice(before)
        .filter((c) => ["check", "create", "update", "delete", "invoke"].includes(c.method)),
      [],
      "nothing was checked or created",
    );
  });

  test("5. destroy leaves nothing: the namespace, its objects and the cluster-scoped policies are gone, every aws and github resource deleted", () => {
    const state = JSON.parse(project.ok(["stack", "export"])) as {
      deployment: { resources: { type: string; urn: string }[] };
    };
    project.ok(["destroy", "--yes", "--skip-preview"]);
    waitUntil("the namespace to go", () => !namespaceExists(ns), 90);
    assert.equal(
      adminKubectl(["get", "validatingadmissionpolicies", "--output", "name"])
        .split("\n")
        .filter((n) => n.includes(`.${ns}.`)).length,
      0,
    );
    const deleted = new Set(
      standinCalls(project)
        .filter((c) => c.method === "delete")
        .map((c) => c.urn),
    );
    assert.deepEqual(
      state.deployment.resources.filter((r) => /^(aws|github):/.test(r.type) && !deleted.has(r.urn)).map((r) => r.urn),
      [],
    );
  });
});

describe("the repository's eks-mode stacks through the CLI", () => {
  test("6. Pulumi.dev.yaml and Pulumi.prod.yaml pass the CLI's validation and preview through the stand-ins, against the cluster the EKS lookup names", () => {
    const { server, caData } = clusterAccess();
    const project = projectCopy("eks", { CANARY_STANDIN_EKS_ENDPOINT: server, CANARY_STANDIN_EKS_CA: caData }, [
      awsCliStandin(),
    ]);
    for (const stack of ["dev", "prod"]) {
      project.ok(["stack", "init", stack]);
      const run = project.pulumi(["preview", "--stack", stack, "--json"]);
      assert.equal(run.status, 0, `pulumi preview --stack ${stack}:\n${run.stdout}\n${run.stderr}`);
      const { steps, diagnostics } = previewJson(run.stdout);
      assert.deepEqual(
        diagnostics.filter((d) => d.severity === "error"),
        [],
      );
      const creates = (prefix: string) =>
        steps.filter((s) => s.op === "create" && typeOf(s.urn).startsWith(prefix)).length;
      assert.ok(
        creates("kubernetes:") > 10 && creates("aws:") > 2 && creates("github:") > 5,
        `${stack}: ${steps.length} steps`,
      );
    }
    const calls = standinCalls(project);
    assert.ok(
      calls.some((c) => c.method === "invoke" && c.token === "aws:eks/getCluster:getCluster"),
      "the cluster was looked up",
    );
    assert.deepEqual(
      calls.filter((c) => c.method === "create" || c.method === "update" || c.method === "delete"),
      [],
      "a preview changes nothing",
    );
  });
});

/**
 * Stack files the CLI must accept: validated against the project's own Pulumi.yaml `config:` block
 * before any program starts (pulumi/pulumi pkg/workspace/config.go). The copy's Pulumi.yaml is the
 * project's with `main` pointed at a program that registers nothing, so each file costs the CLI's
 * validation and a language host start, not a whole preview (scenarios 1 and 6 run index.ts).
 */
describe("the CLI's validation of stack files against the project's Pulumi.yaml", () => {
  const required =
    "config:\n  canary-pipeline:githubOwner: acme\n  canary-pipeline:githubRepository: orders-api\n  canary-pipeline:appName: orders-api\n  canary-pipeline:initialImage: ghcr.io/acme/orders-api:1.4.2\n";
  /** The YAML blocks of the docs that set this project's keys, each as a stack file: a fragment goes under `config:`, beside the required settings. */
  function docExamples(): [string, string][] {
    return ["README.md", ...fs.readdirSync(path.join(repoRoot, "docs")).map((f) => path.join("docs", f))].flatMap(
      (file) =>
        [...fs.readFileSync(path.join(repoRoot, file), "utf8").matchAll(/^```yaml\n([\s\S]*?)^```$/gm)]
          .map((m) => m[1])
          .filter((block) => block.includes(`${projectName}:`))
          .map((block, i): [string, string] => [
            `${file} example ${i + 1}`,
            block.startsWith("config:") ? `${required}${block.replace(/^config:\n/, "")}` : `${required}${block}`,
          ]),
    );
  }
  const files = (): [string, string][] => [
    ...[
      "Pulumi.dev.yaml",
      "Pulumi.prod.yaml",
      ...fs
        .readdirSync(path.join(repoRoot, "test", "fixtures"))
        .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
        .map((f) => path.join("test", "fixtures", f)),
    ].map((file): [string, string] => [file, fs.readFileSync(path.join(repoRoot, file), "utf8")]),
    ...docExamples(),
    ["only the required settings", required],
  ];

  test("every stack file of the repository, every example of the docs and a file of only the required settings pass; a file without a required setting does not", () => {
    const project = projectCopy("validation");
    const projectFile = path.join(project.dir, "Pulumi.yaml");
    fs.writeFileSync(
      projectFile,
      fs.readFileSync(projectFile, "utf8").replace(/^main: .*$/m, "main: registers-nothing.js"),
    );
    fs.writeFileSync(path.join(project.dir, "registers-nothing.js"), "module.exports = () => ({});\n");
    for (const f of fs.readdirSync(project.dir).filter((f) => /^Pulumi\..+\.yaml$/.test(f)))
      fs.rmSync(path.join(project.dir, f));
    const examples = files();
    assert.ok(examples.filter(([name]) => name.includes("example")).length >= 2, "the docs' examples were found");
    const outcomes = [
      ...examples,
      ["without githubOwner", required.replace(/^ {2}canary-pipeline:githubOwner: .*\n/m, "")] as [string, string],
    ].map(([name, text], i) => {
      const stack = `s${i}`;
      // `secure:` values of fixtures were encrypted by no stack: set as a user would, with --secret.
      const document = parse(text) as { config: Record<string, unknown> };
      const secure = Object.keys(document.config).filter(
        (k) => typeof document.config[k] === "object" && document.config[k] !== null && "secure" in document.config[k],
      );
      for (const key of secure) delete document.config[key];
      fs.writeFileSync(path.join(project.dir, `Pulumi.${stack}.yaml`), secure.length > 0 ? stringify(document) : text);
      project.ok(["stack", "init", stack]);
      for (const key of secure)
        project.ok(["config", "set", "--secret", key, "--stack", stack], { input: "a-secret-value" });
      const run = project.pulumi(["preview", "--stack", stack]);
      return { name, status: run.status, printed: run.stdout + run.stderr };
    });
    const refused = outcomes.filter(
      (o) =>
        o.name !== "without githubOwner" &&
        (o.status !== 0 || /validating stack config|missing configuration/.test(o.printed)),
    );
    assert.deepEqual(
      refused.map((o) => `${o.name}: ${o.printed}`),
      [],
    );
    const missing = outcomes.find((o) => o.name === "without githubOwner")!;
    assert.notEqual(missing.status, 0);
    assert.match(missing.printed, /Stack 's\d+' is missing configuration value 'githubOwner'/);
  });
});
