// The trust policy builder on its own: exact subjects under StringEquals, wildcards only where a
// subject has one, never a set operator, and no policy without subjects.
import assert from "node:assert/strict";
import { test } from "node:test";
import { oidcSubjects } from "../../../components/shared/oidc-subjects";
import { trustPolicy } from "../../../components/aws/trust-policy";
import { assume, mockProviderArn, ordersApi } from "../aws-render";

const operators = (policy: ReturnType<typeof trustPolicy>) => policy.Statement.flatMap((s) => Object.keys(s.Condition ?? {}));

test("exact subjects are matched with StringEquals, together with the audience", () => {
  const subjects = [...oidcSubjects(ordersApi, { kind: "environment", environment: "prod" }), ...oidcSubjects(ordersApi, { kind: "tag", tag: "v1" })];
  const policy = trustPolicy(mockProviderArn, [...subjects, subjects[0]]);
  assert.deepEqual(operators(policy), ["StringEquals"]);
  assert.equal(policy.Statement.length, 1);
  assert.deepEqual(policy.Statement[0].Condition?.StringEquals["token.actions.githubusercontent.com:sub"], [...subjects].sort());
  for (const s of subjects) assert.equal(assume(policy, s), "allow", s);
  assert.equal(assume(policy, "repo:acme/orders-api:ref:refs/tags/v10"), "implicitDeny");
});

test("a subject with a wildcard gets its own StringLike statement; the exact ones stay exact", () => {
  const policy = trustPolicy(mockProviderArn, ["repo:acme/orders-api:ref:refs/heads/release/*", "repo:acme/orders-api:pull_request"]);
  assert.deepEqual(operators(policy), ["StringEquals", "StringEquals", "StringLike"]);
  assert.equal(assume(policy, "repo:acme/orders-api:ref:refs/heads/release/1.2"), "allow");
  assert.equal(assume(policy, "repo:acme/orders-api:pull_request"), "allow");
  assert.equal(assume(policy, "repo:acme/orders-api:ref:refs/heads/main"), "implicitDeny");
  assert.equal(assume(policy, "repo:acme/orders-api-evil:ref:refs/heads/release/1"), "implicitDeny");
  assert.equal(assume(policy, "repo:acme/orders-api:ref:refs/heads/release/1", { aud: "other" }), "implicitDeny");
  assert.doesNotMatch(JSON.stringify(policy), /ForAllValues|ForAnyValue/);
});

test("no subjects, or a wildcard in the owner or repository, is refused", () => {
  assert.throws(() => trustPolicy(mockProviderArn, [], "deploy"), /deploy role has no OIDC subjects/);
  for (const s of ["repo:acme/*", "repo:acme/*:pull_request", "repo:acme/orders-api*:pull_request", "repo:*/orders-api:pull_request", "", "acme/orders-api:pull_request"]) {
    assert.throws(() => trustPolicy(mockProviderArn, [s]), /repo:OWNER\/REPO:CONTEXT/, s);
  }
});
