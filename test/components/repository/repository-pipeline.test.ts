// The repository side rendered under the mock engine: the environment with its reviewers (numeric
// ids through getUser/getTeam) and deploy-branch policy, the rollback environment without
// reviewers, variables, secrets only when configured and always marked secret, and the workflow
// files committed one after another.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
  RepositoryPipeline,
  validateRepositoryPipelineArgs,
  type RepositoryPipelineArgs,
} from "../../../components/repository/repository-pipeline";
import { pipelineWorkflows } from "../../../components/repository/workflows/pipeline";
import { renderWorkflow } from "../../../components/repository/workflows/writer";
import type { StackConfig } from "../../../config/schema";
import { mockNumericId, runProgram, secretMarker, type RegisteredResource } from "../../../testing/mock-engine";
import { allConfigs, devLike, prodLike, releaseManagersId } from "./workflows/stack-configs";

const type = {
  environment: "github:index/repositoryEnvironment:RepositoryEnvironment",
  policy: "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
  envVariable: "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
  envSecret: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
  variable: "github:index/actionsVariable:ActionsVariable",
  secret: "github:index/actionsSecret:ActionsSecret",
  file: "github:index/repositoryFile:RepositoryFile",
};

const roleArn = (role: string) => `arn:aws:iam::123456789012:role/${role}`;

// The mock engine's state is global: programs run one at a time.
let queue: Promise<unknown> = Promise.resolve();
function render(config: StackConfig, extra: Partial<RepositoryPipelineArgs> = {}): Promise<RegisteredResource[]> {
  const run = queue.then(() => renderNow(config, extra));
  queue = run.catch(() => undefined);
  return run;
}

async function renderNow(config: StackConfig, extra: Partial<RepositoryPipelineArgs>): Promise<RegisteredResource[]> {
  const { resources } = await runProgram({
    project: "canary-pipeline",
    stack: config.stack,
    config: {},
    secretKeys: [],
    program: () => {
      new RepositoryPipeline(config.appName, {
        config,
        previewRoleArn: roleArn(`preview-${config.stack}`),
        ...(config.clusterAuth === "eks"
          ? {
              deployRoleArn: pulumi.output(roleArn(`deploy-${config.stack}`)),
              rollbackRoleArn: pulumi.output(roleArn(`rollback-${config.stack}`)),
            }
          : {
              kubeconfig: pulumi.output("apiVersion: v1\nkind: Config\n"),
              rollbackKubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\nusers: []\n"),
            }),
        ...(config.secrets.slackWebhook
          ? { slackWebhook: pulumi.secret("https://hooks.slack.com/services/T/B/X") }
          : {}),
        ...extra,
      });
      return {};
    },
  });
  return resources;
}

const ofType = (resources: RegisteredResource[], t: string) => resources.filter((r) => r.type === t);
/** The GitHub environment named `name`. */
const environmentNamed = (resources: RegisteredResource[], name: string) =>
  ofType(resources, type.environment).find((r) => r.inputs.environment === name)!;
const isSecret = (value: unknown) => typeof value === "object" && value !== null && secretMarker in value;
/** The variables of one environment, by name. */
const variables = (resources: RegisteredResource[], environment: string) =>
  Object.fromEntries(
    ofType(resources, type.envVariable)
      .filter((r) => r.inputs.environment === environment)
      .map((r) => [r.inputs.variableName as string, r.inputs.value]),
  );
const secretsOf = (resources: RegisteredResource[], environment: string) =>
  ofType(resources, type.envSecret).filter((r) => r.inputs.environment === environment);

describe("dev-like", () => {
  const config = devLike();
  let resources: RegisteredResource[] = [];
  before(async () => {
    resources = await render(config);
  });
  test("the component and its children, named from it", () => {
    const component = resources.find((r) => r.type === "canary-pipeline:github:RepositoryPipeline");
    assert.ok(component);
    for (const r of resources.filter((r) => r.custom && r.type.startsWith("github:"))) {
      assert.equal(r.parent, component.urn, r.name);
      assert.ok(r.name.startsWith(`${config.appName}-`), r.name);
    }
  });
  test("an environment without reviewers, deployable from the deploy branch only", () => {
    const environment = environmentNamed(resources, "dev");
    assert.equal(environment.inputs.reviewers, undefined);
    assert.deepEqual(environment.inputs.deploymentBranchPolicy, {
      protectedBranches: false,
      customBranchPolicies: true,
    });
    const policy = ofType(resources, type.policy).find((p) => p.inputs.environment === "dev")!;
    assert.deepEqual(
      { repository: policy.inputs.repository, branchPattern: policy.inputs.branchPattern },
      { repository: "orders-api", branchPattern: "main" },
    );
  });
  test("the preview's environment open to pull requests, the drift check's to the deploy branch only", () => {
    assert.deepEqual(
      ofType(resources, type.environment)
        .map((e) => e.inputs.environment)
        .sort(),
      ["dev", "dev-drift", "dev-preview", "dev-rollback"],
    );
    const preview = environmentNamed(resources, "dev-preview");
    assert.equal(preview.inputs.deploymentBranchPolicy, undefined, "every ref: a pull request's is refs/pull/N/merge");
    assert.equal(preview.inputs.reviewers, undefined, "dev has no reviewers");
    assert.deepEqual(environmentNamed(resources, "dev-drift").inputs.deploymentBranchPolicy, {
      protectedBranches: false,
      customBranchPolicies: true,
    });
    assert.deepEqual(
      ofType(resources, type.policy)
        .map((p) => [p.inputs.environment, p.inputs.branchPattern])
        .sort(),
      [
        ["dev", "main"],
        ["dev-drift", "main"],
        ["dev-rollback", "main"],
      ],
    );
  });
  test("the rollback environment: the deploy branch only, no reviewers; the rollback role's variables and the Slack webhook", () => {
    const rollback = environmentNamed(resources, "dev-rollback");
    assert.equal(rollback.inputs.reviewers, undefined);
    assert.deepEqual(rollback.inputs.deploymentBranchPolicy, { protectedBranches: false, customBranchPolicies: true });
    assert.deepEqual(variables(resources, "dev-rollback"), {
      AWS_ROLLBACK_ROLE_ARN: roleArn("rollback-dev"),
      AWS_REGION: "eu-west-1",
      EKS_CLUSTER_NAME: "acme-dev",
    });
    const secrets = secretsOf(resources, "dev-rollback");
    assert.deepEqual(
      secrets.map((r) => r.inputs.secretName),
      ["SLACK_WEBHOOK"],
    );
    assert.ok(isSecret(secrets[0].inputs.plaintextValue));
  });
  test("the variables the deploy workflow reads", () => {
    assert.deepEqual(variables(resources, "dev"), {
      AWS_DEPLOY_ROLE_ARN: roleArn("deploy-dev"),
      AWS_REGION: "eu-west-1",
      EKS_CLUSTER_NAME: "acme-dev",
      K8S_NAMESPACE: "orders-dev",
    });
    const [preview] = ofType(resources, type.variable);
    assert.deepEqual(
      [preview.inputs.variableName, preview.inputs.value],
      ["AWS_PREVIEW_ROLE_ARN_DEV", roleArn("preview-dev")],
    );
  });
  test("configured secrets only, each marked secret; no kubeconfig in eks mode", () => {
    const environmentSecrets = ofType(resources, type.envSecret);
    assert.deepEqual(
      secretsOf(resources, "dev").map((r) => r.inputs.secretName),
      ["SLACK_WEBHOOK"],
    );
    // No repository-wide secret at all: the previews exchange OIDC tokens, nothing is stored.
    assert.deepEqual(ofType(resources, type.secret), []);
    for (const r of environmentSecrets) assert.ok(isSecret(r.inputs.plaintextValue), `${r.name} is secret`);
  });
  test("every workflow file under .github/workflows/ on the deploy branch, as the writer renders it, one commit after another", () => {
    const files = ofType(resources, type.file);
    const expected = pipelineWorkflows(config).filter((f) => f.commit);
    assert.deepEqual(files.map((f) => f.inputs.file).sort(), expected.map((f) => f.path).sort());
    for (const f of files) {
      const workflow = expected.find((e) => e.path === f.inputs.file)!;
      assert.match(f.inputs.file as string, /^\.github\/workflows\/[^/]+\.yml$/);
      assert.equal(f.inputs.content, renderWorkflow(workflow, { project: "canary-pipeline", stack: "dev" }));
      assert.equal(f.inputs.branch, "main");
      assert.equal(f.inputs.overwriteOnCreate, true);
      assert.match(f.inputs.commitMessage as string, /stack dev/);
    }
    // A chain: each file waits for exactly one other file; the first waits for the environment and
    // its branch policy (a run naming an unknown environment creates it unprotected), exactly: the
    // variables and secrets are written alongside, so they do not lengthen the chain.
    const fileUrns = new Set(files.map((f) => f.urn));
    const firsts = files.filter((f) => !f.dependencies.some((d) => fileUrns.has(d)));
    assert.equal(firsts.length, 1);
    const protectionUrns = resources.filter((r) => [type.environment, type.policy].includes(r.type)).map((r) => r.urn);
    assert.equal(protectionUrns.length, 7);
    assert.deepEqual(
      [...firsts[0].dependencies].sort(),
      [...protectionUrns].sort(),
      "the first file waits for the environments and their policies only",
    );
    const waitedFor = files.flatMap((f) => f.dependencies.filter((d) => fileUrns.has(d)));
    assert.equal(new Set(waitedFor).size, files.length - 1, "no file is waited for twice: a single chain");
  });
});

describe("prod-like", () => {
  const config = prodLike();
  let resources: RegisteredResource[] = [];
  before(async () => {
    resources = await render(config);
  });
  test("reviewers as numeric ids: a user looked up by login, a team by the id its setting carries; no self review, no admin bypass; the same gate on its previews", () => {
    // A pull request's preview runs the pull request's code with prod's preview identity: prod's reviewers approve it first.
    // The team is never looked up (the previews' GITHUB_TOKEN cannot read the organisation's teams): its id is the setting's.
    for (const name of ["prod", "prod-preview"]) {
      const environment = environmentNamed(resources, name);
      assert.deepEqual(
        environment.inputs.reviewers,
        [{ users: [mockNumericId("user:alice-sre")], teams: [releaseManagersId] }],
        name,
      );
      assert.equal(environment.inputs.preventSelfReview, true, name);
      assert.equal(environment.inputs.canAdminsBypass, false, name);
    }
    assert.equal(
      environmentNamed(resources, "prod-drift").inputs.reviewers,
      undefined,
      "the drift check runs the deploy branch's code: no gate",
    );
    // A job in an environment with required reviewers waits for them: a rollback must not.
    const rollback = environmentNamed(resources, "prod-rollback");
    assert.deepEqual(
      [rollback.inputs.reviewers, rollback.inputs.preventSelfReview, rollback.inputs.canAdminsBypass],
      [undefined, undefined, undefined],
    );
    assert.deepEqual(
      ofType(resources, type.policy).find((p) => p.inputs.environment === "prod-rollback")?.inputs.branchPattern,
      "main",
    );
  });
  test("commits only its own deploy and drift workflows, holds no Pulumi token", () => {
    assert.deepEqual(
      ofType(resources, type.file).map((f) => f.inputs.file),
      [".github/workflows/deploy-prod.yml", ".github/workflows/drift-prod.yml"],
    );
    assert.deepEqual(ofType(resources, type.secret), []);
    assert.equal(ofType(resources, type.variable)[0].inputs.variableName, "AWS_PREVIEW_ROLE_ARN_PROD");
  });
});

describe("token mode", () => {
  const config = allConfigs()["dev token mode"];
  let resources: RegisteredResource[] = [];
  before(async () => {
    resources = await render(config);
  });
  test("a read-only kubeconfig given for the previews is a secret of the preview and drift environments", async () => {
    const withPreview = await render(config, { previewKubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n") });
    const secrets = ofType(withPreview, type.envSecret).filter((s) => s.inputs.secretName === "PREVIEW_KUBECONFIG");
    assert.deepEqual(secrets.map((s) => s.name).sort(), [
      "orders-api-drift-kubeconfig",
      "orders-api-preview-kubeconfig",
    ]);
    for (const s of secrets) assert.ok(isSecret(s.inputs.plaintextValue), s.name);
  });
  test("the kubeconfig is an environment secret; no role or cluster name variables", () => {
    const secrets = secretsOf(resources, "dev");
    assert.deepEqual(
      secrets.map((s) => s.inputs.secretName),
      ["KUBECONFIG"],
    );
    assert.ok(isSecret(secrets[0].inputs.plaintextValue));
    assert.deepEqual(variables(resources, "dev"), { K8S_NAMESPACE: "orders-dev" });
  });
  test("the rollback identity's kubeconfig is the rollback environment's secret, and its only value", () => {
    const secrets = secretsOf(resources, "dev-rollback");
    assert.deepEqual(
      secrets.map((s) => s.inputs.secretName),
      ["ROLLBACK_KUBECONFIG"],
    );
    assert.ok(isSecret(secrets[0].inputs.plaintextValue));
    assert.deepEqual(variables(resources, "dev-rollback"), {});
  });
});

describe("arguments are checked before anything registers", () => {
  test("eks mode needs the deploy role, token mode the kubeconfig, teams the owner's organisation", () => {
    assert.throws(
      () => validateRepositoryPipelineArgs({ config: devLike(), previewRoleArn: "x" }),
      /^ {2}RepositoryPipeline: deployRoleArn: is required with config\.clusterAuth eks$/m,
    );
    assert.throws(
      () => validateRepositoryPipelineArgs({ config: allConfigs()["dev token mode"], previewRoleArn: "x" }),
      /^ {2}RepositoryPipeline: kubeconfig: is required with config\.clusterAuth token$/m,
    );
    // The rollback job's identity, in the mode's form.
    assert.throws(
      () =>
        validateRepositoryPipelineArgs({
          config: devLike(),
          previewRoleArn: "x",
          deployRoleArn: "y",
          slackWebhook: "z",
        }),
      /RepositoryPipeline: rollbackRoleArn: is required with config\.clusterAuth eks/,
    );
    assert.throws(
      () => validateRepositoryPipelineArgs({ config: allConfigs()["dev token mode"], kubeconfig: "k" }),
      /RepositoryPipeline: rollbackKubeconfig: is required with config\.clusterAuth token/,
    );
    assert.doesNotThrow(() =>
      validateRepositoryPipelineArgs({
        config: devLike(),
        previewRoleArn: "x",
        deployRoleArn: "y",
        rollbackRoleArn: "r",
        slackWebhook: "z",
      }),
    );
    const foreignTeam = { ...prodLike(), requiredReviewers: ["other-org/sre#42"] };
    assert.throws(
      () =>
        validateRepositoryPipelineArgs({
          config: foreignTeam,
          previewRoleArn: "x",
          deployRoleArn: "y",
          rollbackRoleArn: "r",
          slackWebhook: "z",
        }),
      /config\.requiredReviewers\[\d+\]: team [^ ]+ is not in acme/,
    );
    assert.throws(
      () =>
        validateRepositoryPipelineArgs({
          config: devLike(),
          previewRoleArn: "x",
          deployRoleArn: "y",
          slackWebhook: "z",
          workflows: [{ path: "ci.yml", workflow: pipelineWorkflows(devLike())[1].workflow }],
        }),
      /workflows\[0\]\.path: ci\.yml must live in \.github\/workflows/,
    );
  });
});
