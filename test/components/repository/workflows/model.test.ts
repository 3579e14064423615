// The subject a job presents follows from its triggers and environment; a job that could run on
// refs no policy can pin is refused rather than trusted broadly.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Job, Workflow, WorkflowFile } from "../../../../components/repository/workflows/model";
import { jobContexts, roleVariablesAssumedBy, trustSubjects } from "../../../../components/repository/workflows/model";

const assume = (variable: string) => ({ name: "Assume", uses: "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c", with: { "role-to-assume": `\${{ vars.${variable} }}`, "aws-region": "eu-west-1" } });
const job = (extra: Partial<Job> = {}): Job => ({ name: "j", "runs-on": "ubuntu-24.04", permissions: {}, steps: [], ...extra });
const workflow = (on: Workflow["on"], jobs: Record<string, Job>): Workflow => ({ name: "w", on, permissions: {}, jobs });
const repo = { owner: "acme", name: "orders-api" };

test("a job in an environment presents the environment, whatever the trigger", () => {
  const w = workflow({ push: { branches: ["main"] }, workflow_dispatch: null }, {});
  assert.deepEqual(jobContexts(w, job({ environment: { name: "prod" } })), [{ kind: "environment", environment: "prod" }]);
});

test("push and pull_request jobs present their ref or pull_request", () => {
  const w = workflow({ push: { branches: ["main"] }, pull_request: {} }, {});
  assert.deepEqual(jobContexts(w, job()), [{ kind: "pull_request" }, { kind: "branch", branch: "main" }]);
});

test("a job outside an environment that can be started by hand, or on a branch pattern, is refused", () => {
  assert.throws(() => jobContexts(workflow({ workflow_dispatch: null }, {}), job()), /started by hand on any branch/);
  assert.throws(() => jobContexts(workflow({ push: { branches: ["release/*"] } }, {}), job()), /branch pattern release\/\*/);
});

test("the role a job assumes is read from its configure-aws-credentials step", () => {
  assert.deepEqual(roleVariablesAssumedBy(job({ steps: [assume("AWS_DEPLOY_ROLE_ARN")] })), ["AWS_DEPLOY_ROLE_ARN"]);
  assert.deepEqual(roleVariablesAssumedBy(job({ steps: [{ name: "x", run: "true" }] })), []);
  assert.throws(() => roleVariablesAssumedBy(job({ steps: [{ ...assume("X"), with: { "role-to-assume": "arn:aws:iam::1:role/x" } }] })), /through a vars/);
});

test("trust subjects are exactly those of the jobs that assume the role", () => {
  const files: WorkflowFile[] = [{
    path: ".github/workflows/deploy.yml",
    workflow: workflow({ push: { branches: ["main"] } }, {
      canary: job({ environment: { name: "dev" }, steps: [assume("AWS_DEPLOY_ROLE_ARN")] }),
      build: job(),
    }),
  }, {
    path: ".github/workflows/preview.yml",
    workflow: workflow({ pull_request: {} }, { preview: job({ steps: [assume("AWS_PREVIEW_ROLE_ARN_DEV")] }) }),
  }];
  assert.deepEqual(trustSubjects(files, "AWS_DEPLOY_ROLE_ARN", repo), ["repo:acme/orders-api:environment:dev"]);
  assert.deepEqual(trustSubjects(files, "AWS_PREVIEW_ROLE_ARN_DEV", { ...repo, ownerId: 7, repositoryId: 9 }), [
    "repo:acme/orders-api:pull_request",
    "repo:acme@7/orders-api@9:pull_request",
  ]);
});
