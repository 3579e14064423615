// The evaluator against AWS's documented policy semantics (IAM User Guide: "Condition operators",
// "Single-valued vs. multivalued context keys", "Multivalued context key examples", "Policy
// evaluation logic"). Each case is what the guide says AWS decides.
import assert from "node:assert/strict";
import { test } from "node:test";
import { conditionHolds, evaluatePolicy, wildcardMatch, type IamRequest } from "../../verify/iam-policy";

const provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
const sub = "token.actions.githubusercontent.com:sub";
const aud = "token.actions.githubusercontent.com:aud";
const workflowRef = "token.actions.githubusercontent.com:job_workflow_ref";

const allowWhen = (condition: Record<string, Record<string, string | string[]>>) => ({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Federated: provider },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: condition,
    },
  ],
});
const request = (context: IamRequest["context"], overrides: Partial<IamRequest> = {}): IamRequest => ({
  action: "sts:AssumeRoleWithWebIdentity",
  principal: { federated: provider },
  context,
  ...overrides,
});

test("StringEquals is exact and case-sensitive; the IgnoreCase form is not", () => {
  assert.equal(conditionHolds("StringEquals", ["repo:acme/api:pull_request"], ["repo:acme/api:pull_request"]), true);
  assert.equal(conditionHolds("StringEquals", ["repo:acme/api:pull_request"], ["repo:Acme/api:pull_request"]), false);
  assert.equal(
    conditionHolds("StringEquals", ["repo:acme/*"], ["repo:acme/api"]),
    false,
    "* is literal in StringEquals",
  );
  assert.equal(conditionHolds("StringEqualsIgnoreCase", ["repo:acme/api"], ["REPO:ACME/API"]), true);
  assert.equal(conditionHolds("StringNotEqualsIgnoreCase", ["repo:acme/api"], ["REPO:ACME/API"]), false);
});

test("StringLike: * matches any run (also empty, also across : and /), ? exactly one character, case-sensitive", () => {
  assert.equal(wildcardMatch("repo:acme/*", "repo:acme/api:ref:refs/heads/main", false), true);
  assert.equal(wildcardMatch("repo:acme/api*", "repo:acme/api-evil:pull_request", false), true, "the prefix trap");
  assert.equal(wildcardMatch("repo:acme/api:*", "repo:acme/api:", false), true);
  assert.equal(wildcardMatch("v?", "v1", false), true);
  assert.equal(wildcardMatch("v?", "v", false), false);
  assert.equal(wildcardMatch("v?", "v10", false), false);
  assert.equal(wildcardMatch("a.b", "axb", false), false, "regular-expression characters are literal");
  assert.equal(wildcardMatch("a+b(c)", "a+b(c)", false), true);
  assert.equal(conditionHolds("StringLike", ["repo:acme/*"], ["repo:ACME/api"]), false);
  assert.equal(conditionHolds("StringNotLike", ["repo:acme/*"], ["repo:other/api"]), true);
  assert.equal(conditionHolds("StringNotLike", ["repo:acme/*"], ["repo:acme/api"]), false);
});

test("several values for one key are ORed; a negated operator holds only when none matches", () => {
  assert.equal(conditionHolds("StringEquals", ["a", "b"], ["b"]), true);
  assert.equal(conditionHolds("StringEquals", ["a", "b"], ["c"]), false);
  assert.equal(conditionHolds("StringNotEquals", ["a", "b"], ["c"]), true);
  assert.equal(conditionHolds("StringNotEquals", ["a", "b"], ["b"]), false);
  assert.equal(conditionHolds("StringLike", ["x*", "y*"], ["yes"]), true);
  assert.equal(conditionHolds("StringNotLike", ["x*", "y*"], ["yes"]), false);
});

test("keys and operators are ANDed", () => {
  const policy = allowWhen({ StringEquals: { [aud]: "sts.amazonaws.com", [sub]: ["s1", "s2"] } });
  assert.equal(evaluatePolicy(policy, request({ [aud]: "sts.amazonaws.com", [sub]: "s2" })), "allow");
  assert.equal(evaluatePolicy(policy, request({ [aud]: "other", [sub]: "s2" })), "implicitDeny");
  assert.equal(evaluatePolicy(policy, request({ [aud]: "sts.amazonaws.com", [sub]: "s3" })), "implicitDeny");
  const twoOperators = allowWhen({
    StringEquals: { [aud]: "sts.amazonaws.com" },
    StringLike: { [sub]: "repo:acme/api:*" },
  });
  assert.equal(
    evaluatePolicy(twoOperators, request({ [aud]: "sts.amazonaws.com", [sub]: "repo:acme/api:pull_request" })),
    "allow",
  );
  assert.equal(
    evaluatePolicy(twoOperators, request({ [aud]: "x", [sub]: "repo:acme/api:pull_request" })),
    "implicitDeny",
  );
  assert.equal(
    evaluatePolicy(twoOperators, request({ [aud]: "sts.amazonaws.com", [sub]: "repo:acme/web:pull_request" })),
    "implicitDeny",
  );
});

test("statements are ORed and each is whole: a subject of one and a workflow ref of another admit nothing", () => {
  const deploy = "acme/api/.github/workflows/deploy-dev.yml@refs/heads/main";
  const preview = "acme/api/.github/workflows/infra-preview.yml@refs/pull/*/merge";
  const policy = {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: provider },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { [aud]: "sts.amazonaws.com", [sub]: "repo:acme/api:environment:dev", [workflowRef]: deploy },
        },
      },
      {
        Effect: "Allow",
        Principal: { Federated: provider },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { [aud]: "sts.amazonaws.com", [sub]: "repo:acme/api:pull_request" },
          StringLike: { [workflowRef]: preview },
        },
      },
    ],
  };
  const token = (s: string, ref: string | undefined) =>
    request({ [aud]: "sts.amazonaws.com", [sub]: s, [workflowRef]: ref });
  assert.equal(evaluatePolicy(policy, token("repo:acme/api:environment:dev", deploy)), "allow");
  assert.equal(
    evaluatePolicy(
      policy,
      token("repo:acme/api:pull_request", "acme/api/.github/workflows/infra-preview.yml@refs/pull/42/merge"),
    ),
    "allow",
  );
  assert.equal(
    evaluatePolicy(
      policy,
      token("repo:acme/api:environment:dev", "acme/api/.github/workflows/infra-preview.yml@refs/pull/42/merge"),
    ),
    "implicitDeny",
  );
  assert.equal(evaluatePolicy(policy, token("repo:acme/api:pull_request", deploy)), "implicitDeny");
  assert.equal(
    evaluatePolicy(
      policy,
      token("repo:acme/api:environment:dev", "acme/api/.github/workflows/other.yml@refs/heads/main"),
    ),
    "implicitDeny",
    "another file, same environment and branch",
  );
  assert.equal(
    evaluatePolicy(policy, token("repo:acme/api:environment:dev", undefined)),
    "implicitDeny",
    "a token without the claim",
  );
  assert.equal(
    evaluatePolicy(policy, token("repo:acme/api:pull_request", undefined)),
    "implicitDeny",
    "a token without the claim, under StringLike",
  );
});

test("a missing key: positive operators fail, negated ones hold, IfExists holds", () => {
  assert.equal(conditionHolds("StringEquals", ["a"], undefined), false);
  assert.equal(conditionHolds("StringLike", ["*"], undefined), false, "even * needs the key");
  assert.equal(conditionHolds("StringNotEquals", ["a"], undefined), true);
  assert.equal(conditionHolds("StringNotLike", ["a*"], undefined), true);
  assert.equal(conditionHolds("StringEqualsIfExists", ["a"], undefined), true);
  assert.equal(conditionHolds("StringLikeIfExists", ["a*"], undefined), true);
  // When the key is present, IfExists is the plain operator.
  assert.equal(conditionHolds("StringEqualsIfExists", ["a"], ["b"]), false);
  assert.equal(conditionHolds("StringEqualsIfExists", ["a"], ["a"]), true);
  assert.equal(conditionHolds("StringNotEqualsIfExists", ["a"], ["a"]), false);
  // A request without the subject claim cannot assume a role conditioned on it.
  const policy = allowWhen({ StringEquals: { [aud]: "sts.amazonaws.com", [sub]: "s1" } });
  assert.equal(evaluatePolicy(policy, request({ [aud]: "sts.amazonaws.com" })), "implicitDeny");
});

test("ForAllValues holds when the key is missing or empty, and when every value matches some policy value", () => {
  assert.equal(conditionHolds("ForAllValues:StringEquals", ["a"], undefined), true);
  assert.equal(conditionHolds("ForAllValues:StringEquals", ["a"], []), true);
  assert.equal(conditionHolds("ForAllValues:StringLike", ["Created*"], ["CreatedBy", "CreatedAt"]), true);
  assert.equal(conditionHolds("ForAllValues:StringEquals", ["a", "b"], ["a", "b"]), true);
  assert.equal(conditionHolds("ForAllValues:StringEquals", ["a", "b"], ["a", "c"]), false);
  // The guide's table for a Deny with "ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}.
  assert.equal(conditionHolds("ForAllValues:StringNotLike", ["key1*"], ["key1:legal"]), false);
  assert.equal(conditionHolds("ForAllValues:StringNotLike", ["key1*"], ["key1:hr", "key1:personnel"]), false);
  assert.equal(conditionHolds("ForAllValues:StringNotLike", ["key1*"], ["key2:audit"]), true);
  assert.equal(conditionHolds("ForAllValues:StringNotLike", ["key1*"], undefined), true);
  // Why it must never guard an Allow: a token without the claim passes.
  const trap = allowWhen({ "ForAllValues:StringEquals": { [sub]: "repo:acme/api:pull_request" } });
  assert.equal(evaluatePolicy(trap, request({})), "allow");
});

test("ForAnyValue holds when at least one value matches, and not when the key is missing or empty", () => {
  assert.equal(conditionHolds("ForAnyValue:StringEquals", ["a"], ["b", "a"]), true);
  assert.equal(conditionHolds("ForAnyValue:StringEquals", ["a"], ["b", "c"]), false);
  assert.equal(conditionHolds("ForAnyValue:StringEquals", ["a"], undefined), false);
  assert.equal(conditionHolds("ForAnyValue:StringEquals", ["a"], []), false);
  assert.equal(conditionHolds("ForAnyValue:StringNotEquals", ["a", "b"], ["a", "c"]), true, "c equals no policy value");
  assert.equal(conditionHolds("ForAnyValue:StringNotEquals", ["a", "b"], ["a", "b"]), false);
  assert.equal(conditionHolds("ForAnyValue:StringLikeIfExists", ["a*"], undefined), true);
});

test("a single-valued operator on a multivalued key is refused: AWS requires a set operator", () => {
  assert.throws(() => conditionHolds("StringEquals", ["a"], ["a", "b"]), /set operator/);
  assert.equal(conditionHolds("StringEquals", ["a"], ["a"]), true);
});

test("Null tests presence", () => {
  assert.equal(conditionHolds("Null", ["true"], undefined), true);
  assert.equal(conditionHolds("Null", ["true"], ["x"]), false);
  assert.equal(conditionHolds("Null", ["false"], ["x"]), true);
  assert.equal(conditionHolds("Null", ["false"], undefined), false);
});

test("condition key names are case-insensitive; values are not", () => {
  const policy = allowWhen({ StringEquals: { "Token.Actions.GithubUserContent.com:SUB": "s1" } });
  assert.equal(evaluatePolicy(policy, request({ [sub]: "s1" })), "allow");
  assert.equal(evaluatePolicy(policy, request({ [sub]: "S1" })), "implicitDeny");
});

test("an explicit Deny overrides any Allow; a Deny whose condition fails does not", () => {
  const policy = {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: provider },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: { StringLike: { [sub]: "repo:acme/*" } },
      },
      {
        Effect: "Deny",
        Principal: "*",
        Action: "sts:*",
        Condition: { StringEquals: { [sub]: "repo:acme/evil:pull_request" } },
      },
    ],
  };
  assert.equal(evaluatePolicy(policy, request({ [sub]: "repo:acme/api:pull_request" })), "allow");
  assert.equal(evaluatePolicy(policy, request({ [sub]: "repo:acme/evil:pull_request" })), "explicitDeny");
  assert.equal(evaluatePolicy(policy, request({ [sub]: "repo:other/api:pull_request" })), "implicitDeny");
});

test("Action matches case-insensitively and by wildcard; NotAction inverts; Principal must match", () => {
  const policy = allowWhen({ StringEquals: { [sub]: "s1" } });
  assert.equal(evaluatePolicy(policy, request({ [sub]: "s1" }, { action: "STS:assumerolewithwebidentity" })), "allow");
  assert.equal(evaluatePolicy(policy, request({ [sub]: "s1" }, { action: "sts:AssumeRole" })), "implicitDeny");
  assert.equal(
    evaluatePolicy(
      policy,
      request({ [sub]: "s1" }, { principal: { federated: provider.replace("123456789012", "999999999999") } }),
    ),
    "implicitDeny",
  );
  assert.equal(
    evaluatePolicy(policy, request({ [sub]: "s1" }, { principal: { aws: "arn:aws:iam::123456789012:root" } })),
    "implicitDeny",
  );
  assert.equal(evaluatePolicy(policy, request({ [sub]: "s1" }, { principal: undefined })), "implicitDeny");
  const wildcard = {
    Version: "2012-10-17",
    Statement: { Effect: "Allow", Principal: { Federated: provider }, Action: "sts:AssumeRole*" },
  };
  assert.equal(evaluatePolicy(wildcard, request({}, { action: "sts:AssumeRoleWithWebIdentity" })), "allow");
  assert.equal(evaluatePolicy(wildcard, request({}, { action: "sts:TagSession" })), "implicitDeny");
  const not = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", NotAction: "sts:AssumeRole" }] };
  assert.equal(evaluatePolicy(not, request({}, { action: "sts:TagSession" })), "allow");
  assert.equal(evaluatePolicy(not, request({}, { action: "sts:assumerole" })), "implicitDeny");
});

test("Resource and NotResource match ARNs case-sensitively with wildcards", () => {
  const policy = {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: "eks:DescribeCluster", Resource: "arn:aws:eks:eu-west-1:123456789012:cluster/main" },
    ],
  };
  assert.equal(
    evaluatePolicy(policy, {
      action: "eks:DescribeCluster",
      resource: "arn:aws:eks:eu-west-1:123456789012:cluster/main",
    }),
    "allow",
  );
  assert.equal(
    evaluatePolicy(policy, {
      action: "eks:DescribeCluster",
      resource: "arn:aws:eks:eu-west-1:123456789012:cluster/Main",
    }),
    "implicitDeny",
  );
  assert.throws(() => evaluatePolicy(policy, { action: "eks:DescribeCluster" }), /request has none/);
  const not = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Deny", Action: "*", NotResource: "arn:aws:eks:*:*:cluster/main" }],
  };
  assert.equal(
    evaluatePolicy(not, { action: "eks:DescribeCluster", resource: "arn:aws:eks:eu-west-1:1:cluster/other" }),
    "explicitDeny",
  );
  assert.equal(
    evaluatePolicy(not, { action: "eks:DescribeCluster", resource: "arn:aws:eks:eu-west-1:1:cluster/main" }),
    "implicitDeny",
  );
});

test("an empty policy allows nothing; what the evaluator does not support fails loudly", () => {
  assert.equal(evaluatePolicy({ Version: "2012-10-17", Statement: [] }, request({})), "implicitDeny");
  assert.throws(
    () => evaluatePolicy(allowWhen({ ArnLike: { "aws:SourceArn": "*" } }), request({})),
    /unsupported condition operator ArnLike/,
  );
  assert.throws(
    () => evaluatePolicy(allowWhen({ NullIfExists: { [sub]: "true" } }), request({})),
    /unsupported condition operator/,
  );
  assert.throws(
    () => evaluatePolicy(allowWhen({ StringEquals: { [sub]: "${aws:username}" } }), request({ [sub]: "x" })),
    /policy variables/,
  );
  assert.throws(
    () => evaluatePolicy({ Statement: [{ Effect: "Allow", NotPrincipal: { AWS: "x" }, Action: "*" }] }, request({})),
    /NotPrincipal/,
  );
  assert.throws(() => evaluatePolicy({ Statement: [{ Effect: "Permit", Action: "*" }] }, request({})), /Effect/);
  // A JSON string is accepted as it is rendered.
  assert.equal(
    evaluatePolicy(JSON.stringify(allowWhen({ StringEquals: { [sub]: "s1" } })), request({ [sub]: "s1" })),
    "allow",
  );
});
