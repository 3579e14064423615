// The deploy and preview roles, rendered under the mock engine: their trust policies are
// evaluated (not compared as text) for the jobs meant to assume them and for look-alikes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { GithubOidcProvider } from "../../../components/aws/github-oidc-provider";
import { oidcSubjects, type JobContext } from "../../../components/shared/oidc-subjects";
import {
  PipelineRoles,
  validatePipelineRolesArgs,
  type PipelineRolesArgs,
} from "../../../components/aws/pipeline-roles";
import { ConfigError } from "../../../config/errors";
import { evaluatePolicy } from "../../../verify/iam-policy";
import { assume, mockProviderArn, ordersApi, renderAws, trustedFile } from "../aws-render";

const cluster = "arn:aws:eks:eu-west-1:123456789012:cluster/main";
const prod: JobContext = { kind: "environment", environment: "prod" };
const pullRequest: JobContext = { kind: "pull_request" };
const deployFile = ".github/workflows/deploy-prod.yml";
const previewFile = ".github/workflows/infra-preview.yml";
const workflowRef = (file: string, ref: string) => `acme/orders-api/${file}@${ref}`;
const repositoryId = String(ordersApi.repositoryId);
// What the deploy job (prod's deploy workflow on main) and the preview job (a pull request) present.
const deployToken = (sub: string) => ({ sub, workflowRef: workflowRef(deployFile, "refs/heads/main"), repositoryId });
const previewToken = (sub: string) => ({
  sub,
  workflowRef: workflowRef(previewFile, "refs/pull/7/merge"),
  repositoryId,
});
const prodRollback: JobContext = { kind: "environment", environment: "prod-rollback" };
const baseArgs = {
  deployTrust: [trustedFile(ordersApi, deployFile, ["refs/heads/main"], prod)],
  previewTrust: [trustedFile(ordersApi, previewFile, ["refs/pull/*/merge"], pullRequest)],
  eksClusterName: "main",
  region: "eu-west-1",
  kubernetesGroup: "orders-api-deployers",
};

function render(args: Partial<PipelineRolesArgs> = {}) {
  return renderAws(() => {
    const provider = new GithubOidcProvider("github");
    const roles = new PipelineRoles("orders", { oidcProviderArn: provider.arn, ...baseArgs, ...args });
    return {
      previewRoleArn: roles.previewRoleArn,
      ...(roles.deployRoleArn ? { deployRoleArn: roles.deployRoleArn } : {}),
      ...(roles.rollbackRoleArn ? { rollbackRoleArn: roles.rollbackRoleArn } : {}),
    };
  });
}

const sub = (owner: string, repo: string, context: string) => `repo:${owner}/${repo}:${context}`;

test("the deploy role trusts the prod environment's jobs of prod's deploy workflow on main, in both subject forms, and nothing else", async () => {
  const trust = (await render()).document("orders-deploy-role.trust.json");
  for (const s of oidcSubjects(ordersApi, prod)) assert.equal(assume(trust, deployToken(s)), "allow", s);
  assert.deepEqual(oidcSubjects(ordersApi, prod), [
    "repo:acme/orders-api:environment:prod",
    "repo:acme@1234567/orders-api@890123456:environment:prod",
  ]);

  const denied = [
    sub("acme", "orders-api", "environment:staging"),
    sub("acme", "orders-api", "environment:prod-eu"),
    sub("acme", "orders-api", "ref:refs/heads/main"), // a push to main without the environment
    sub("acme", "orders-api", "ref:refs/heads/feature"),
    sub("acme", "orders-api", "ref:refs/tags/v1.0.0"),
    sub("acme", "orders-api", "pull_request"),
    sub("acme", "billing-api", "environment:prod"), // another repository of the owner
    sub("acme", "orders-api-evil", "environment:prod"), // a name sharing the prefix
    sub("mallory", "orders-api", "environment:prod"), // a fork
    sub("Acme", "orders-api", "environment:prod"), // matching is case-sensitive
    sub("acme", "Orders-API", "environment:prod"),
    "repo:acme@1234567/orders-api@999:environment:prod", // another repository id
    "repo:acme@7654321/orders-api@890123456:environment:prod", // another owner id
    "repo:acme@1234567/orders-api@890123456:pull_request",
    "repo:acme/orders-api:environment:prod:extra",
  ];
  for (const s of denied) assert.equal(assume(trust, deployToken(s)), "implicitDeny", s);

  const good = deployToken("repo:acme/orders-api:environment:prod");
  const deniedRefs = [
    workflowRef(".github/workflows/other.yml", "refs/heads/main"), // another file of the repository, same environment and branch
    workflowRef(deployFile, "refs/heads/feature"), // the file of another branch, started by hand there
    workflowRef(deployFile, "refs/pull/7/merge"),
    workflowRef(".github/workflows/deploy-prod.yaml", "refs/heads/main"),
    `acme/orders-api-evil/${deployFile}@refs/heads/main`,
    `acme/shared-workflows/.github/workflows/deploy.yml@refs/heads/main`, // a reusable workflow called from elsewhere
  ];
  for (const ref of deniedRefs) assert.equal(assume(trust, { ...good, workflowRef: ref }), "implicitDeny", ref);
  assert.equal(assume(trust, { ...good, workflowRef: undefined }), "implicitDeny", "missing workflow ref");
  assert.equal(assume(trust, { ...good, repositoryId: "999" }), "implicitDeny", "another repository id");
  assert.equal(assume(trust, { ...good, repositoryId: undefined }), "implicitDeny", "missing repository id");
  assert.equal(assume(trust, good, { aud: "https://github.com/acme" }), "implicitDeny", "wrong audience");
  assert.equal(assume(trust, good, { aud: "STS.amazonaws.com" }), "implicitDeny", "audience case");
  assert.equal(assume(trust, good, { aud: null }), "implicitDeny", "missing audience");
  assert.equal(assume(trust, { ...good, sub: undefined }), "implicitDeny", "missing subject");
  assert.equal(
    assume(trust, good, { provider: "arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com" }),
    "implicitDeny",
    "another account's provider",
  );
  assert.equal(assume(trust, good, { action: "sts:AssumeRole" }), "implicitDeny", "another action");
});

test("the preview role trusts the preview workflow's pull-request jobs only", async () => {
  const trust = (await render()).document("orders-preview-role.trust.json");
  for (const s of oidcSubjects(ordersApi, pullRequest)) assert.equal(assume(trust, previewToken(s)), "allow", s);
  const denied = [
    ...oidcSubjects(ordersApi, { kind: "branch", branch: "main" }), // a push to main
    ...oidcSubjects(ordersApi, prod),
    sub("acme", "orders-api-evil", "pull_request"),
    sub("mallory", "orders-api", "pull_request"),
    sub("ACME", "orders-api", "pull_request"),
  ];
  for (const s of denied) assert.equal(assume(trust, previewToken(s)), "implicitDeny", s);
  const good = previewToken("repo:acme/orders-api:pull_request");
  assert.equal(assume(trust, good, { aud: "sigstore" }), "implicitDeny");
  assert.equal(
    assume(trust, { ...good, workflowRef: workflowRef(previewFile, "refs/pull/123/merge") }),
    "allow",
    "any pull request",
  );
  for (const ref of [
    workflowRef(".github/workflows/ci.yml", "refs/pull/7/merge"),
    workflowRef(previewFile, "refs/heads/main"),
    workflowRef(previewFile, "refs/heads/refs/pull/7/merge"),
  ]) {
    assert.equal(assume(trust, { ...good, workflowRef: ref }), "implicitDeny", ref);
  }
  assert.equal(assume(trust, { ...good, workflowRef: undefined }), "implicitDeny", "missing workflow ref");
});

test("without repository ids only the name form is trusted", async () => {
  const named = { owner: "acme", name: "orders-api" };
  const trust = (
    await render({
      deployTrust: [trustedFile(named, deployFile, ["refs/heads/main"], prod)],
      previewTrust: [trustedFile(named, previewFile, ["refs/pull/*/merge"], pullRequest)],
    })
  ).document("orders-deploy-role.trust.json");
  const { workflowRef: ref } = deployToken("");
  assert.equal(assume(trust, { sub: "repo:acme/orders-api:environment:prod", workflowRef: ref }), "allow");
  assert.equal(
    assume(trust, { sub: "repo:acme@1234567/orders-api@890123456:environment:prod", workflowRef: ref }),
    "implicitDeny",
  );
  assert.doesNotMatch(JSON.stringify(trust), /repository_id/);
});

test("the deploy role may describe exactly one cluster, and nothing more", async () => {
  const policy = (await render()).document("orders-deploy-policy.policy.json") as {
    Statement: Record<string, unknown>[];
  };
  assert.equal(policy.Statement.length, 1);
  const [statement] = policy.Statement;
  assert.deepEqual(
    [statement.Effect, [statement.Action].flat(), [statement.Resource].flat()],
    ["Allow", ["eks:DescribeCluster"], [cluster]],
  );
  assert.deepEqual(Object.keys(statement).sort(), ["Action", "Effect", "Resource", "Sid"]);

  const can = (action: string, resource: string) => evaluatePolicy(policy, { action, resource });
  assert.equal(can("eks:DescribeCluster", cluster), "allow");
  assert.equal(can("eks:DescribeCluster", "arn:aws:eks:eu-west-1:123456789012:cluster/other"), "implicitDeny");
  assert.equal(can("eks:DescribeCluster", "arn:aws:eks:us-east-1:123456789012:cluster/main"), "implicitDeny");
  for (const action of [
    "eks:ListClusters",
    "eks:UpdateClusterConfig",
    "eks:CreateAccessEntry",
    "eks:AssociateAccessPolicy",
    "iam:PassRole",
  ]) {
    assert.equal(can(action, cluster), "implicitDeny", action);
  }
});

test("the deploy role maps to the Kubernetes group through a STANDARD access entry, with no access policy", async () => {
  const { ofType, resources, outputs } = await render();
  const entries = ofType("aws:eks/accessEntry:AccessEntry");
  assert.equal(entries.length, 1);
  const [entry] = entries;
  assert.equal(entry.name, "orders-deploy-access");
  assert.equal(entry.inputs.type, "STANDARD");
  assert.deepEqual(entry.inputs.kubernetesGroups, ["orders-api-deployers"]);
  assert.equal(entry.inputs.clusterName, "main");
  assert.equal(entry.inputs.region, "eu-west-1");
  assert.equal(entry.inputs.principalArn, outputs.deployRoleArn);
  assert.equal(outputs.deployRoleArn, "arn:aws:iam::123456789012:role/orders-deploy-role");
  assert.equal(resources.filter((r) => r.type.startsWith("aws:eks/accessPolicyAssociation")).length, 0);
  // Every child hangs under the component, named from it.
  const component = resources.find((r) => r.type === "canary-pipeline:aws:PipelineRoles");
  assert.ok(component);
  for (const r of resources.filter((x) => x.custom && !x.type.startsWith("aws:iam/openIdConnectProvider"))) {
    assert.equal(r.parent, component.urn, r.name);
    assert.match(r.name, /^orders-/);
  }
});

test("the preview role reads exactly this stack's AWS resources", async () => {
  const { document, outputs } = await render();
  const policy = document("orders-preview-policy.policy.json");
  const roles = [outputs.deployRoleArn, outputs.previewRoleArn] as string[];
  const entry = "arn:aws:eks:eu-west-1:123456789012:access-entry/main/role/123456789012/orders-deploy-access";
  const can = (action: string, resource: string) => evaluatePolicy(policy, { action, resource });
  for (const role of roles) {
    for (const action of ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"]) {
      assert.equal(can(action, role), "allow", `${action} ${role}`);
    }
    for (const action of [
      "iam:PutRolePolicy",
      "iam:UpdateAssumeRolePolicy",
      "iam:AttachRolePolicy",
      "iam:DeleteRole",
      "iam:TagRole",
      "sts:AssumeRole",
    ]) {
      assert.equal(can(action, role), "implicitDeny", `${action} ${role}`);
    }
  }
  assert.equal(can("iam:GetRole", "arn:aws:iam::123456789012:role/admin"), "implicitDeny");
  assert.equal(can("iam:GetOpenIDConnectProvider", mockProviderArn), "allow");
  assert.equal(can("iam:UpdateOpenIDConnectProviderThumbprint", mockProviderArn), "implicitDeny");
  assert.equal(can("eks:DescribeCluster", cluster), "allow");
  assert.equal(can("eks:DescribeAccessEntry", entry), "allow");
  assert.equal(can("eks:DescribeCluster", "arn:aws:eks:eu-west-1:123456789012:cluster/other"), "implicitDeny");
  assert.equal(can("eks:UpdateAccessEntry", entry), "implicitDeny");
  assert.equal(can("eks:ListAssociatedAccessPolicies", entry), "implicitDeny");
  // No statement grants an action or resource by wildcard.
  const text = JSON.stringify(policy);
  assert.doesNotMatch(text, /\*/);
});

test("without deploy trust there is no deploy role, and without a cluster no EKS permission", async () => {
  const { ofType, files, outputs, document } = await render({ deployTrust: undefined, eksClusterName: undefined });
  assert.deepEqual(
    ofType("aws:iam/role:Role").map((r) => r.name),
    ["orders-preview-role"],
  );
  assert.equal(ofType("aws:eks/accessEntry:AccessEntry").length, 0);
  assert.equal(files.has("aws/orders-deploy-policy.policy.json"), false);
  assert.equal(outputs.deployRoleArn, undefined);
  const policy = document("orders-preview-policy.policy.json");
  assert.equal(evaluatePolicy(policy, { action: "iam:GetRole", resource: String(outputs.previewRoleArn) }), "allow");
  assert.doesNotMatch(JSON.stringify(policy), /eks:/);
});

test("the options reach every role and every taggable resource", async () => {
  const boundary = "arn:aws:iam::123456789012:policy/pipeline-boundary";
  const tags = { team: "payments", "cost-centre": "42" };
  const { ofType, outputs, document } = await render({
    rolePath: "/pipelines/orders/",
    permissionsBoundary: boundary,
    maxSessionDuration: 7200,
    tags,
  });
  const roles = ofType("aws:iam/role:Role");
  assert.equal(roles.length, 2);
  for (const role of roles) {
    assert.equal(role.inputs.path, "/pipelines/orders/", role.name);
    assert.equal(role.inputs.permissionsBoundary, boundary, role.name);
    assert.equal(role.inputs.maxSessionDuration, 7200, role.name);
    assert.deepEqual(role.inputs.tags, tags, role.name);
  }
  assert.deepEqual(ofType("aws:eks/accessEntry:AccessEntry")[0].inputs.tags, tags);
  assert.equal(outputs.previewRoleArn, "arn:aws:iam::123456789012:role/pipelines/orders/orders-preview-role");
  // The preview role's reads follow the path.
  const policy = document("orders-preview-policy.policy.json");
  assert.equal(
    evaluatePolicy(policy, {
      action: "iam:GetRole",
      resource: "arn:aws:iam::123456789012:role/pipelines/orders/orders-deploy-role",
    }),
    "allow",
  );
  assert.equal(
    evaluatePolicy(policy, { action: "iam:GetRole", resource: "arn:aws:iam::123456789012:role/orders-deploy-role" }),
    "implicitDeny",
  );
});

test("the defaults: path /, one-hour sessions, no boundary, no tags", async () => {
  for (const role of (await render()).ofType("aws:iam/role:Role")) {
    assert.equal(role.inputs.path, "/");
    assert.equal(role.inputs.maxSessionDuration, 3600);
    assert.equal(role.inputs.permissionsBoundary, undefined);
    assert.deepEqual(role.inputs.tags ?? {}, {});
  }
});

test("arguments are refused before anything registers", () => {
  const args: PipelineRolesArgs = { oidcProviderArn: mockProviderArn, ...baseArgs };
  assert.doesNotThrow(() => validatePipelineRolesArgs(args));
  const refused: [Partial<PipelineRolesArgs>, RegExp][] = [
    [{ previewTrust: [] }, /preview role trusts no workflow/],
    [{ deployTrust: [] }, /deploy role trusts no workflow/],
    [
      { deployTrust: [{ ...baseArgs.deployTrust[0], subjects: ["repo:acme/*:environment:prod"] }] },
      /literal owner and repository/,
    ],
    [
      { previewTrust: [{ ...baseArgs.previewTrust[0], subjects: ["repo:acme/orders-api*:pull_request"] }] },
      /literal owner and repository/,
    ],
    [{ previewTrust: [{ ...baseArgs.previewTrust[0], subjects: ["*"] }] }, /must be repo:OWNER\/REPO:CONTEXT/],
    [{ deployTrust: [{ ...baseArgs.deployTrust[0], workflowRefs: [] }] }, /without subjects or workflow refs/],
    [
      {
        deployTrust: [
          { ...baseArgs.deployTrust[0], workflowRefs: ["acme/orders-api/.github/workflows/*.yml@refs/heads/main"] },
        ],
      },
      /literal owner, repository and file/,
    ],
    [
      { deployTrust: [{ ...baseArgs.deployTrust[0], repositoryId: "R_kgDO" }] },
      /PipelineRoles: deployTrust\[0\]\.repositoryId: "R_kgDO" must be a number/,
    ],
    [{ eksClusterName: undefined }, /PipelineRoles: eksClusterName: is required with deployTrust/],
    [{ kubernetesGroup: undefined }, /PipelineRoles: kubernetesGroup: is required with deployTrust/],
    [{ kubernetesGroup: "system:masters" }, /system:/],
    [{ region: "Europe" }, /AWS region/],
    [{ rolePath: "pipelines" }, /start and end with \//],
    [{ maxSessionDuration: 3599 }, /3600 to 43200/],
    [{ maxSessionDuration: 43201 }, /3600 to 43200/],
    [{ maxSessionDuration: 3600.5 }, /3600 to 43200/],
  ];
  for (const [change, message] of refused) {
    assert.throws(() => validatePipelineRolesArgs({ ...args, ...change }), message, JSON.stringify(change));
  }
  assert.doesNotThrow(() => validatePipelineRolesArgs({ ...args, maxSessionDuration: 43200, rolePath: "/a/b/" }));
});

test("every refused argument at once, each named by its property path after the component, before anything registers", () => {
  const args: PipelineRolesArgs = {
    oidcProviderArn: mockProviderArn,
    ...baseArgs,
    region: "eu-wset-1",
    rolePath: "pipelines",
    maxSessionDuration: 900,
  };
  assert.throws(
    () => new PipelineRoles("orders", args),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.deepEqual(error.problems, [
        'PipelineRoles orders: region: "eu-wset-1" must be an AWS region: did you mean eu-west-1?',
        'PipelineRoles orders: rolePath: "pipelines" must start and end with / (at most 512 characters)',
        "PipelineRoles orders: maxSessionDuration: 900 must be a whole number of seconds from 3600 to 43200",
      ]);
      assert.deepEqual(error.errors[0], {
        propertyPath: "region",
        reason: '"eu-wset-1" must be an AWS region: did you mean eu-west-1?',
      });
      assert.equal(error.holder, "PipelineRoles orders");
      return true;
    },
  );
});

// The rollback job of prod's deploy workflow, in prod-rollback (an environment without reviewers).
const rollbackArgs: Partial<PipelineRolesArgs> = {
  rollbackTrust: [trustedFile(ordersApi, deployFile, ["refs/heads/main"], prodRollback)],
  rollbackKubernetesGroup: "orders-api-rollbackers",
};

test("the rollback role trusts only the rollback job of prod's deploy workflow, in prod-rollback on main; the deploy role does not", async () => {
  const r = await render(rollbackArgs);
  const trust = r.document("orders-rollback-role.trust.json");
  for (const s of oidcSubjects(ordersApi, prodRollback)) assert.equal(assume(trust, deployToken(s)), "allow", s);
  const denied = [
    ...oidcSubjects(ordersApi, prod), // the canary and promote jobs' environment
    sub("acme", "orders-api", "environment:dev-rollback"),
    sub("acme", "orders-api", "environment:prod-rollback-eu"),
    sub("acme", "orders-api", "ref:refs/heads/main"),
    sub("acme", "orders-api", "pull_request"),
    sub("mallory", "orders-api", "environment:prod-rollback"),
    sub("acme", "orders-api-evil", "environment:prod-rollback"),
  ];
  for (const s of denied) assert.equal(assume(trust, deployToken(s)), "implicitDeny", s);
  const good = deployToken("repo:acme/orders-api:environment:prod-rollback");
  for (const ref of [
    workflowRef(".github/workflows/other.yml", "refs/heads/main"),
    workflowRef(deployFile, "refs/heads/feature"),
    workflowRef(".github/workflows/deploy-dev.yml", "refs/heads/main"),
  ]) {
    assert.equal(assume(trust, { ...good, workflowRef: ref }), "implicitDeny", ref);
  }
  assert.equal(assume(trust, { ...good, repositoryId: "999" }), "implicitDeny", "another repository id");
  assert.equal(assume(trust, good, { aud: "sigstore" }), "implicitDeny", "wrong audience");
  // Each role admits its own job only.
  assert.equal(
    assume(r.document("orders-deploy-role.trust.json"), good),
    "implicitDeny",
    "the deploy role refuses the rollback job",
  );
  assert.equal(
    assume(r.document("orders-preview-role.trust.json"), good),
    "implicitDeny",
    "the preview role refuses the rollback job",
  );
});

test("the rollback role may describe the cluster only, and maps to its own group through a STANDARD access entry", async () => {
  const { document, ofType, outputs } = await render(rollbackArgs);
  const policy = document("orders-rollback-policy.policy.json");
  assert.deepEqual(
    policy,
    document("orders-deploy-policy.policy.json"),
    "what `aws eks update-kubeconfig` needs, as the deploy role",
  );
  const can = (action: string, resource: string) => evaluatePolicy(policy, { action, resource });
  assert.equal(can("eks:DescribeCluster", cluster), "allow");
  for (const action of [
    "eks:ListClusters",
    "eks:UpdateAccessEntry",
    "eks:AssociateAccessPolicy",
    "iam:PassRole",
    "sts:AssumeRole",
  ])
    assert.equal(can(action, cluster), "implicitDeny", action);
  const entry = ofType("aws:eks/accessEntry:AccessEntry").find((e) => e.name === "orders-rollback-access");
  assert.ok(entry);
  assert.deepEqual(
    [entry.inputs.type, entry.inputs.kubernetesGroups, entry.inputs.clusterName, entry.inputs.principalArn],
    ["STANDARD", ["orders-api-rollbackers"], "main", outputs.rollbackRoleArn],
  );
  assert.equal(outputs.rollbackRoleArn, "arn:aws:iam::123456789012:role/orders-rollback-role");
  // The preview's refresh reads the rollback role and its entry too.
  const preview = document("orders-preview-policy.policy.json");
  assert.equal(evaluatePolicy(preview, { action: "iam:GetRole", resource: String(outputs.rollbackRoleArn) }), "allow");
  assert.equal(
    evaluatePolicy(preview, {
      action: "eks:DescribeAccessEntry",
      resource: "arn:aws:eks:eu-west-1:123456789012:access-entry/main/role/123456789012/orders-rollback-access",
    }),
    "allow",
  );
});

test("without rollback trust there is no rollback role; rollback arguments are refused before anything registers", async () => {
  const { ofType, outputs } = await render();
  assert.deepEqual(
    ofType("aws:iam/role:Role")
      .map((x) => x.name)
      .sort(),
    ["orders-deploy-role", "orders-preview-role"],
  );
  assert.equal(outputs.rollbackRoleArn, undefined);
  const args: PipelineRolesArgs = { oidcProviderArn: mockProviderArn, ...baseArgs, ...rollbackArgs };
  assert.doesNotThrow(() => validatePipelineRolesArgs(args));
  const refused: [Partial<PipelineRolesArgs>, RegExp][] = [
    [{ rollbackTrust: [] }, /rollback role trusts no workflow/],
    [{ rollbackKubernetesGroup: undefined }, /rollbackKubernetesGroup: is required with rollbackTrust/],
    [
      { eksClusterName: undefined, deployTrust: undefined },
      /eksClusterName: is required with rollbackTrust: the rollback role may describe that cluster only/,
    ],
    [{ rollbackKubernetesGroup: "orders-api-deployers" }, /is the deploy role's group/],
    [{ rollbackKubernetesGroup: "system:masters" }, /rollbackKubernetesGroup: "system:masters" must be/],
  ];
  for (const [change, message] of refused)
    assert.throws(() => validatePipelineRolesArgs({ ...args, ...change }), message, JSON.stringify(change));
});
