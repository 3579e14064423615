// The subject a job presents follows from its triggers and environment; a job that could run on
// refs no policy can pin is refused rather than trusted broadly.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Job, Workflow, WorkflowFile } from "../../../../components/repository/workflows/model";
import {
  jobContexts,
  roleVariablesAssumedBy,
  trustedWorkflows,
  trustSubjects,
  workflowRefs,
} from "../../../../components/repository/workflows/model";

const assume = (variable: string) => ({
  name: "Assume",
  uses: "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c",
  with: { "role-to-assume": `\${{ vars.${variable} }}`, "aws-region": "eu-west-1" },
});
const job = (extra: Partial<Job> = {}): Job => ({
  name: "j",
  "runs-on": "ubuntu-24.04",
  permissions: {},
  steps: [],
  ...extra,
});
const workflow = (on: Workflow["on"], jobs: Record<string, Job>): Workflow => ({
  name: "w",
  on,
  permissions: {},
  jobs,
});
const repo = { owner: "acme", name: "orders-api" };

test("a job in an environment presents the environment, whatever the trigger", () => {
  const w = workflow({ push: { branches: ["main"] }, workflow_dispatch: null }, {});
  assert.deepEqual(jobContexts(w, job({ environment: { name: "prod" } })), [
    { kind: "environment", environment: "prod" },
  ]);
});

test("push and pull_request jobs present their ref or pull_request", () => {
  const w = workflow({ push: { branches: ["main"] }, pull_request: {} }, {});
  assert.deepEqual(jobContexts(w, job()), [{ kind: "pull_request" }, { kind: "branch", branch: "main" }]);
});

test("a job outside an environment that can be started by hand, or on a branch pattern, is refused", () => {
  assert.throws(() => jobContexts(workflow({ workflow_dispatch: null }, {}), job()), /started by hand on any branch/);
  assert.throws(
    () => jobContexts(workflow({ push: { branches: ["release/*"] } }, {}), job()),
    /branch pattern release\/\*/,
  );
});

test("the role a job assumes is read from its configure-aws-credentials step", () => {
  assert.deepEqual(roleVariablesAssumedBy(job({ steps: [assume("AWS_DEPLOY_ROLE_ARN")] })), ["AWS_DEPLOY_ROLE_ARN"]);
  assert.deepEqual(roleVariablesAssumedBy(job({ steps: [{ name: "x", run: "true" }] })), []);
  assert.throws(
    () =>
      roleVariablesAssumedBy(job({ steps: [{ ...assume("X"), with: { "role-to-assume": "arn:aws:iam::1:role/x" } }] })),
    /through a vars/,
  );
});

test("trust subjects are exactly those of the jobs that assume the role", () => {
  const files: WorkflowFile[] = [
    {
      path: ".github/workflows/deploy.yml",
      workflow: workflow(
        { push: { branches: ["main"] } },
        {
          canary: job({ environment: { name: "dev" }, steps: [assume("AWS_DEPLOY_ROLE_ARN")] }),
          build: job(),
        },
      ),
    },
    {
      path: ".github/workflows/preview.yml",
      workflow: workflow({ pull_request: {} }, { preview: job({ steps: [assume("AWS_PREVIEW_ROLE_ARN_DEV")] }) }),
    },
  ];
  assert.deepEqual(trustSubjects(files, "AWS_DEPLOY_ROLE_ARN", repo), ["repo:acme/orders-api:environment:dev"]);
  assert.deepEqual(trustSubjects(files, "AWS_PREVIEW_ROLE_ARN_DEV", { ...repo, ownerId: 7, repositoryId: 9 }), [
    "repo:acme/orders-api:pull_request",
    "repo:acme@7/orders-api@9:pull_request",
  ]);
});

test("workflow refs follow the file and its triggers: a push its branch or tag, a pull request any number, a schedule or a manual run the given branch", () => {
  const refs = (on: Workflow["on"]) =>
    workflowRefs({ path: ".github/workflows/w.yml", workflow: workflow(on, {}) }, repo, "main");
  const at = (ref: string) => `acme/orders-api/.github/workflows/w.yml@${ref}`;
  assert.deepEqual(refs({ push: { branches: ["main", "trunk"], tags: ["v1"] } }), [
    at("refs/heads/main"),
    at("refs/heads/trunk"),
    at("refs/tags/v1"),
  ]);
  assert.deepEqual(refs({ pull_request: { branches: ["main"] } }), [at("refs/pull/*/merge")]);
  assert.deepEqual(refs({ schedule: [{ cron: "0 6 * * 1-5" }], workflow_dispatch: null }), [at("refs/heads/main")]);
  assert.deepEqual(refs({ push: { branches: ["main"] }, workflow_dispatch: null }), [at("refs/heads/main")]);
  assert.throws(() => refs({ push: { branches: ["release/*"] } }), /branch pattern release\/\*/);
  assert.throws(() => refs({ push: { tags: ["v*"] } }), /tag pattern v\*/);
  assert.throws(() => refs({ push: {} }), /pushes of any branch or tag/);
});

test("trusted workflows: one entry per file with a job that assumes the role, its jobs' subjects and its refs", () => {
  const files: WorkflowFile[] = [
    {
      path: ".github/workflows/deploy.yml",
      workflow: workflow(
        { push: { branches: ["main"] }, workflow_dispatch: null },
        {
          canary: job({ environment: { name: "dev" }, steps: [assume("AWS_DEPLOY_ROLE_ARN")] }),
          build: job(),
        },
      ),
    },
    {
      path: ".github/workflows/preview.yml",
      workflow: workflow(
        { pull_request: {} },
        { preview: job({ environment: { name: "dev-preview" }, steps: [assume("AWS_PREVIEW_ROLE_ARN_DEV")] }) },
      ),
    },
    {
      path: ".github/workflows/drift.yml",
      workflow: workflow(
        { schedule: [{ cron: "0 6 * * *" }] },
        { drift: job({ environment: { name: "dev-drift" }, steps: [assume("AWS_PREVIEW_ROLE_ARN_DEV")] }) },
      ),
    },
  ];
  assert.deepEqual(trustedWorkflows(files, "AWS_DEPLOY_ROLE_ARN", repo, "main"), [
    {
      subjects: ["repo:acme/orders-api:environment:dev"],
      workflowRefs: ["acme/orders-api/.github/workflows/deploy.yml@refs/heads/main"],
    },
  ]);
  assert.deepEqual(
    trustedWorkflows(files, "AWS_PREVIEW_ROLE_ARN_DEV", { ...repo, ownerId: 7, repositoryId: 9 }, "main"),
    [
      {
        subjects: ["repo:acme/orders-api:environment:dev-preview", "repo:acme@7/orders-api@9:environment:dev-preview"],
        workflowRefs: ["acme/orders-api/.github/workflows/preview.yml@refs/pull/*/merge"],
        repositoryId: "9",
      },
      {
        subjects: ["repo:acme/orders-api:environment:dev-drift", "repo:acme@7/orders-api@9:environment:dev-drift"],
        workflowRefs: ["acme/orders-api/.github/workflows/drift.yml@refs/heads/main"],
        repositoryId: "9",
      },
    ],
  );
  assert.deepEqual(trustedWorkflows(files, "AWS_PREVIEW_ROLE_ARN_PROD", repo, "main"), [], "no job assumes it");
  // A job that assumes a role but presents no subject a policy could pin is refused, not left untrusted.
  const unpinned: WorkflowFile = {
    path: ".github/workflows/nightly.yml",
    workflow: workflow({ schedule: [{ cron: "0 0 * * *" }] }, { n: job({ steps: [assume("AWS_DEPLOY_ROLE_ARN")] }) }),
  };
  assert.throws(
    () => trustedWorkflows([unpinned], "AWS_DEPLOY_ROLE_ARN", repo, "main"),
    /runs in no context a subject can pin/,
  );
});
