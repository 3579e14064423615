// The GitHub OIDC provider: created once per account, or adopted by ARN without creating anything.
import assert from "node:assert/strict";
import { test } from "node:test";
import { GithubOidcProvider } from "../../../components/aws/github-oidc-provider";
import { PipelineRoles } from "../../../components/aws/pipeline-roles";
import { assume, mockProviderArn, ordersApi, renderAws, trustedFile } from "../aws-render";

const providerType = "aws:iam/openIdConnectProvider:OpenIdConnectProvider";
const preview = (repository: typeof ordersApi) =>
  trustedFile(repository, ".github/workflows/infra-preview.yml", ["refs/pull/*/merge"], { kind: "pull_request" });
const previewTrust = [preview(ordersApi)];
const previewToken = (name: string) => ({
  sub: `repo:acme/${name}:pull_request`,
  workflowRef: `acme/${name}/.github/workflows/infra-preview.yml@refs/pull/3/merge`,
});

test("creates the provider for GitHub's issuer with the STS audience and no thumbprints", async () => {
  const { ofType, outputs } = await renderAws(() => ({
    arn: new GithubOidcProvider("github", { tags: { team: "platform" } }).arn,
  }));
  const providers = ofType(providerType);
  assert.equal(providers.length, 1);
  const [provider] = providers;
  assert.equal(provider.name, "github-provider");
  assert.equal(provider.inputs.url, "https://token.actions.githubusercontent.com");
  assert.deepEqual(provider.inputs.clientIdLists, ["sts.amazonaws.com"]);
  assert.equal(provider.inputs.thumbprintLists, undefined);
  assert.deepEqual(provider.inputs.tags, { team: "platform" });
  assert.equal(provider.parent, ofType("canary-pipeline:aws:GithubOidcProvider")[0]?.urn);
  assert.equal(outputs.arn, mockProviderArn);
});

test("adopts an existing provider by ARN: nothing is created and the roles trust that provider", async () => {
  const existing = "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com";
  const { ofType, outputs, document } = await renderAws(() => {
    const provider = new GithubOidcProvider("github", { existingProviderArn: existing });
    new PipelineRoles("orders", { oidcProviderArn: provider.arn, previewTrust, region: "eu-west-1" });
    return { arn: provider.arn, created: provider.created };
  });
  assert.equal(ofType(providerType).length, 0);
  assert.equal(ofType("canary-pipeline:aws:GithubOidcProvider").length, 1);
  assert.equal(outputs.arn, existing);
  assert.equal(outputs.created, false);
  const trust = document("orders-preview-role.trust.json");
  const token = { ...previewToken("orders-api"), repositoryId: String(ordersApi.repositoryId) };
  assert.equal(assume(trust, token, { provider: existing }), "allow");
  assert.equal(assume(trust, token, { provider: mockProviderArn }), "implicitDeny");
});

test("one provider serves the roles of several services in the account", async () => {
  const { ofType, document } = await renderAws(() => {
    const provider = new GithubOidcProvider("github");
    new PipelineRoles("orders", { oidcProviderArn: provider.arn, previewTrust, region: "eu-west-1" });
    new PipelineRoles("billing", {
      oidcProviderArn: provider.arn,
      previewTrust: [preview({ owner: "acme", name: "billing-api" })],
      region: "eu-west-1",
    });
    return {};
  });
  assert.equal(ofType(providerType).length, 1);
  assert.equal(ofType("aws:iam/role:Role").length, 2);
  const billing = document("billing-preview-role.trust.json");
  assert.equal(assume(billing, previewToken("billing-api")), "allow");
  assert.equal(assume(billing, previewToken("orders-api")), "implicitDeny");
  assert.equal(
    assume(billing, { ...previewToken("orders-api"), sub: "repo:acme/billing-api:pull_request" }),
    "implicitDeny",
    "another repository's workflow",
  );
});

test("an ARN that is not a GitHub OIDC provider's is refused at once", () => {
  for (const arn of [
    "arn:aws:iam::123456789012:oidc-provider/accounts.google.com",
    "arn:aws:iam::123456789012:role/github",
    "token.actions.githubusercontent.com",
  ]) {
    assert.throws(
      () => new GithubOidcProvider("github", { existingProviderArn: arn }),
      /must be the ARN of an IAM OIDC provider/,
      arn,
    );
  }
});
