// The trust policy builder on its own: one statement per workflow file, exact values under
// StringEquals, wildcards only where a value has one, every claim required, never a set operator,
// and no policy without workflows.
import assert from "node:assert/strict";
import { test } from "node:test";
import { trustPolicy } from "../../../components/aws/trust-policy";
import { assume, mockProviderArn, ordersApi, trustedFile } from "../aws-render";

const operators = (policy: ReturnType<typeof trustPolicy>) =>
  policy.Statement.flatMap((s) => Object.keys(s.Condition ?? {}));
const ref = (file: string, at: string) => `acme/orders-api/.github/workflows/${file}@${at}`;
const repositoryId = String(ordersApi.repositoryId);
const deploy = trustedFile(ordersApi, ".github/workflows/deploy-prod.yml", ["refs/heads/main"], {
  kind: "environment",
  environment: "prod",
});
const drift = trustedFile(ordersApi, ".github/workflows/drift-prod.yml", ["refs/heads/main"], {
  kind: "environment",
  environment: "prod-drift",
});
const preview = trustedFile(ordersApi, ".github/workflows/infra-preview.yml", ["refs/pull/*/merge"], {
  kind: "pull_request",
});

test("one workflow file: its subjects, its workflow refs, the audience and the repository id, all with StringEquals", () => {
  const policy = trustPolicy(mockProviderArn, [{ ...deploy, subjects: [...deploy.subjects, deploy.subjects[0]] }]);
  assert.deepEqual(operators(policy), ["StringEquals"]);
  assert.equal(policy.Statement.length, 1);
  assert.equal(policy.Statement[0].Sid, "DeployProd");
  assert.deepEqual(policy.Statement[0].Condition?.StringEquals, {
    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
    "token.actions.githubusercontent.com:repository_id": repositoryId,
    "token.actions.githubusercontent.com:sub": [
      "repo:acme/orders-api:environment:prod",
      "repo:acme@1234567/orders-api@890123456:environment:prod",
    ],
    "token.actions.githubusercontent.com:job_workflow_ref": [ref("deploy-prod.yml", "refs/heads/main")],
  });
  const good = {
    sub: "repo:acme/orders-api:environment:prod",
    workflowRef: ref("deploy-prod.yml", "refs/heads/main"),
    repositoryId,
  };
  assert.equal(assume(policy, good), "allow");
  assert.equal(
    assume(policy, { ...good, workflowRef: ref("other.yml", "refs/heads/main") }),
    "implicitDeny",
    "another file, same environment and branch",
  );
  assert.equal(
    assume(policy, { ...good, workflowRef: ref("deploy-prod.yml", "refs/heads/release") }),
    "implicitDeny",
    "the file on another branch",
  );
});

test("a token without one of the claims is denied", () => {
  const policy = trustPolicy(mockProviderArn, [deploy]);
  const good = {
    sub: "repo:acme/orders-api:environment:prod",
    workflowRef: ref("deploy-prod.yml", "refs/heads/main"),
    repositoryId,
  };
  assert.equal(assume(policy, good), "allow");
  for (const claim of ["sub", "workflowRef", "repositoryId"] as const) {
    assert.equal(assume(policy, { ...good, [claim]: undefined }), "implicitDeny", claim);
  }
  assert.equal(assume(policy, good, { aud: null }), "implicitDeny", "aud");
});

test("one statement per file: no job of one file is admitted with the subject of another's", () => {
  const policy = trustPolicy(mockProviderArn, [deploy, drift]);
  assert.deepEqual(
    policy.Statement.map((s) => s.Sid),
    ["DeployProd", "DriftProd"],
  );
  const token = (environment: string, file: string) => ({
    sub: `repo:acme/orders-api:environment:${environment}`,
    workflowRef: ref(file, "refs/heads/main"),
    repositoryId,
  });
  assert.equal(assume(policy, token("prod", "deploy-prod.yml")), "allow");
  assert.equal(assume(policy, token("prod-drift", "drift-prod.yml")), "allow");
  assert.equal(
    assume(policy, token("prod", "drift-prod.yml")),
    "implicitDeny",
    "the drift file with the deploy environment",
  );
  assert.equal(
    assume(policy, token("prod-drift", "deploy-prod.yml")),
    "implicitDeny",
    "the deploy file with the drift environment",
  );
  // What one statement for both would have admitted: the values of a key are ORed.
  const merged = trustPolicy(mockProviderArn, [
    {
      subjects: [...deploy.subjects, ...drift.subjects],
      workflowRefs: [...deploy.workflowRefs, ...drift.workflowRefs],
      repositoryId,
    },
  ]);
  assert.equal(assume(merged, token("prod", "drift-prod.yml")), "allow");
});

test("a pull request's workflow ref is matched with StringLike, in the same statement as the exact subjects", () => {
  const policy = trustPolicy(mockProviderArn, [preview]);
  assert.equal(policy.Statement.length, 1);
  assert.deepEqual(operators(policy), ["StringEquals", "StringLike"]);
  assert.deepEqual(policy.Statement[0].Condition?.StringLike, {
    "token.actions.githubusercontent.com:job_workflow_ref": [ref("infra-preview.yml", "refs/pull/*/merge")],
  });
  const good = {
    sub: "repo:acme/orders-api:pull_request",
    workflowRef: ref("infra-preview.yml", "refs/pull/42/merge"),
    repositoryId,
  };
  assert.equal(assume(policy, good), "allow");
  assert.equal(assume(policy, { ...good, workflowRef: ref("infra-preview.yml", "refs/heads/main") }), "implicitDeny");
  assert.equal(assume(policy, { ...good, workflowRef: ref("ci.yml", "refs/pull/42/merge") }), "implicitDeny");
  assert.equal(assume(policy, { ...good, sub: "repo:acme/orders-api:ref:refs/heads/main" }), "implicitDeny");
});

test("a subject with a wildcard gets its own StringLike statement; the exact ones stay exact", () => {
  const release = {
    ...deploy,
    subjects: ["repo:acme/orders-api:ref:refs/heads/release/*", "repo:acme/orders-api:pull_request"],
  };
  const policy = trustPolicy(mockProviderArn, [release]);
  assert.deepEqual(operators(policy), ["StringEquals", "StringEquals", "StringLike"]);
  assert.deepEqual(
    policy.Statement.map((s) => s.Sid),
    ["DeployProd", "DeployProd2"],
  );
  const token = (sub: string) => ({ sub, workflowRef: ref("deploy-prod.yml", "refs/heads/main"), repositoryId });
  assert.equal(assume(policy, token("repo:acme/orders-api:ref:refs/heads/release/1.2")), "allow");
  assert.equal(assume(policy, token("repo:acme/orders-api:pull_request")), "allow");
  assert.equal(assume(policy, token("repo:acme/orders-api:ref:refs/heads/main")), "implicitDeny");
  assert.equal(assume(policy, token("repo:acme/orders-api-evil:ref:refs/heads/release/1")), "implicitDeny");
  assert.equal(
    assume(policy, token("repo:acme/orders-api:ref:refs/heads/release/1"), { aud: "other" }),
    "implicitDeny",
  );
  assert.doesNotMatch(JSON.stringify(policy), /ForAllValues|ForAnyValue/);
});

test("no workflows, a workflow without subjects or refs, or a wildcard in the owner, repository or file, is refused", () => {
  assert.throws(() => trustPolicy(mockProviderArn, [], "deploy"), /deploy role trusts no workflow/);
  assert.throws(() => trustPolicy(mockProviderArn, [{ ...deploy, subjects: [] }]), /without subjects or workflow refs/);
  assert.throws(
    () => trustPolicy(mockProviderArn, [{ ...deploy, workflowRefs: [] }]),
    /without subjects or workflow refs/,
  );
  for (const s of [
    "repo:acme/*",
    "repo:acme/*:pull_request",
    "repo:acme/orders-api*:pull_request",
    "repo:*/orders-api:pull_request",
    "",
    "acme/orders-api:pull_request",
  ]) {
    assert.throws(() => trustPolicy(mockProviderArn, [{ ...deploy, subjects: [s] }]), /repo:OWNER\/REPO:CONTEXT/, s);
  }
  for (const r of [
    "acme/*/.github/workflows/deploy.yml@refs/heads/main",
    "acme/orders-api/.github/workflows/*.yml@refs/heads/main",
    "acme/orders-api/.github/workflows/deploy.yml",
    "acme/orders-api/deploy.yml@refs/heads/main",
    "acme/orders-api/.github/workflows/deploy.yml@main",
  ]) {
    assert.throws(
      () => trustPolicy(mockProviderArn, [{ ...deploy, workflowRefs: [r] }]),
      /OWNER\/REPO\/\.github\/workflows\/FILE\.yml@refs/,
      r,
    );
  }
});
