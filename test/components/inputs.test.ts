// The cluster's location and the OIDC provider's ARN may be Outputs of the same program (a cluster
// it creates or looks up): they take the place of the settings and are held to the settings'
// rules once known. A plain value is checked before anything registers.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CanaryPipeline, ConfigError, GithubOidcProvider, type ServiceSettings } from "../../library";
import type { RegisteredResource } from "../../testing/mock-engine";
import { renderStack } from "../../synth/render";

const eks: ServiceSettings = {
  githubOwner: "acme", githubRepository: "orders-api", appName: "orders-api",
  awsRegion: "eu-west-1", initialImage: "ghcr.io/acme/orders-api:1.4.2",
};
const token: ServiceSettings = { ...eks, clusterAuth: "token" };
const ca = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64");
const render = (program: () => unknown, registrations?: RegisteredResource[]) =>
  renderStack({ stack: "dev", settings: { config: {}, secretKeys: [] }, program, ...(registrations ? { registrations } : {}) });
const ofType = (resources: RegisteredResource[], type: string) => resources.filter((r) => r.type === type);
const unwrap = (value: unknown) => (value as { __secret__?: unknown }).__secret__ ?? value;

describe("Inputs in place of settings", () => {
  test("eksClusterName from a looked-up cluster reaches the access entry, the deploy policy and the variable", async () => {
    const { resources } = await render(() => {
      const cluster = aws.eks.getClusterOutput({ name: "acme-prod" });
      new CanaryPipeline("orders", { settings: eks, eksClusterName: cluster.name });
    });
    // The deploy and rollback roles' entries.
    assert.deepEqual(ofType(resources, "aws:eks/accessEntry:AccessEntry").map((r) => r.inputs.clusterName), ["acme-prod", "acme-prod"]);
    const policy = ofType(resources, "aws:iam/rolePolicy:RolePolicy").find((r) => r.name.includes("deploy"))!;
    assert.match(String(policy.inputs.policy), /arn:aws:eks:eu-west-1:123456789012:cluster\/acme-prod/);
    const variables = ofType(resources, "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable");
    assert.equal(variables.find((r) => r.inputs.variableName === "EKS_CLUSTER_NAME")?.inputs.value, "acme-prod");
  });

  test("clusterEndpoint and clusterCaData from a cluster reach the deployer's kubeconfig", async () => {
    const { resources } = await render(() => {
      const cluster = aws.eks.getClusterOutput({ name: "acme-prod" });
      new CanaryPipeline("orders", { settings: token, clusterEndpoint: cluster.endpoint, clusterCaData: cluster.certificateAuthorities[0].data });
    });
    const secret = ofType(resources, "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret").find((r) => r.inputs.secretName === "KUBECONFIG")!;
    const kubeconfig = String(unwrap(secret.inputs.plaintextValue));
    assert.match(kubeconfig, /server: https:\/\/\d+\.gr7\.eu-west-1\.eks\.amazonaws\.com/);
    assert.match(kubeconfig, new RegExp(`certificate-authority-data: ${Buffer.from("-----BEGIN CERTIFICATE-----\nacme-prod\n-----END CERTIFICATE-----\n").toString("base64")}`));
  });

  test("an Output that breaks the setting's rule fails the run, naming the key", async () => {
    await assert.rejects(render(() => {
      new CanaryPipeline("orders", { settings: eks, eksClusterName: pulumi.output("acme prod!") });
    }), /CanaryPipeline orders: eksClusterName: "acme prod!" must be an EKS cluster name/);
    await assert.rejects(render(() => {
      new CanaryPipeline("orders", { settings: token, clusterEndpoint: pulumi.output("http://k8s.acme.example"), clusterCaData: ca });
    }), /CanaryPipeline orders: clusterEndpoint: "http:\/\/k8s.acme.example" must be the cluster API server's https:\/\/ URL/);
    await assert.rejects(render(() => {
      new CanaryPipeline("orders", { settings: { ...eks, eksClusterName: "acme-prod" }, oidcProviderArn: pulumi.output("arn:aws:iam::123456789012:oidc-provider/accounts.google.com") });
    }), /CanaryPipeline orders: oidcProviderArn: .* must be the ARN of an IAM OIDC provider for token.actions.githubusercontent.com/);
    await assert.rejects(render(() => {
      new GithubOidcProvider("github", { existingProviderArn: pulumi.output("arn:aws:iam::1:oidc-provider/x") });
    }), /GithubOidcProvider github: existingProviderArn: .* must be the ARN of an IAM OIDC provider/);
  });

  test("a plain value is checked before anything registers", () => {
    assert.throws(() => new CanaryPipeline("orders", { settings: eks, eksClusterName: "acme prod!" }),
      (e: unknown) => e instanceof ConfigError && /CanaryPipeline orders: eksClusterName: "acme prod!" must be an EKS cluster name/.test(e.message));
  });

  test("a kubeconfig that is no kubeconfig is refused without printing it", async () => {
    const contents = "apiVersion: v1\nkind: Config\ntoken: s3cret\n";
    await assert.rejects(render(() => {
      new CanaryPipeline("orders", { settings: { ...eks, eksClusterName: "acme-prod" }, kubeconfig: pulumi.secret(contents) });
    }), (e: unknown) => e instanceof Error && /CanaryCluster orders-cluster: kubeconfig: is not a kubeconfig: it must list clusters and contexts/.test(e.message) && !e.message.includes("s3cret"));
  });

  test("a location given both in the settings and in the Args is refused", () => {
    assert.throws(() => new CanaryPipeline("orders", { settings: { ...eks, eksClusterName: "acme-prod" }, eksClusterName: pulumi.output("acme-prod") }),
      /CanaryPipeline orders: eksClusterName is given in the settings and in the Args: give it once/);
  });

  test("without either, the setting is still required", () => {
    assert.throws(() => new CanaryPipeline("orders", { settings: eks }), /canary-pipeline:eksClusterName: is required with clusterAuth eks/);
  });
});
