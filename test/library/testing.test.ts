// `canary-pipeline/testing` from source, as a platform team's unit test uses it: a token-mode
// CanaryPipeline renders under the project's mocks with nothing mocked by hand
// (test/package/install.test.ts runs the same through the installed package).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { CanaryPipeline, ConfigError, type ServiceSettings } from "../../library";
import { mockServiceAccountToken, runProgram, secretMarker } from "../../testing";

const settings: ServiceSettings = {
  githubOwner: "acme",
  githubRepository: "billing",
  appName: "billing",
  initialImage: "ghcr.io/acme/billing:2.0.0",
  clusterAuth: "token",
};
const clusterCaData = Buffer.from(
  "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAj\n-----END CERTIFICATE-----\n",
).toString("base64");

interface Kubeconfig {
  clusters: { cluster: { server: string } }[];
  users: { user: { token?: string } }[];
}

describe("canary-pipeline/testing", () => {
  test("a token-mode CanaryPipeline renders: the deployer's kubeconfig carries the mock token, the Deployments register", async () => {
    const { resources, outputs } = await runProgram({
      program: () => {
        const billing = new CanaryPipeline("billing", {
          settings,
          clusterEndpoint: "https://k8s.acme.example:6443",
          clusterCaData,
        });
        return { deployerKubeconfig: billing.cluster.kubeconfig, serviceAccount: billing.deployerServiceAccount };
      },
    });
    const kubeconfig = parse(outputs.deployerKubeconfig as string) as Kubeconfig;
    assert.deepEqual(
      kubeconfig.users.map((u) => u.user.token),
      [mockServiceAccountToken],
    );
    assert.equal(kubeconfig.clusters[0].cluster.server, "https://k8s.acme.example:6443");
    assert.equal(typeof outputs.serviceAccount, "string");
    const deployments = resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment");
    assert.ok(deployments.length >= 2, deployments.map((d) => d.name).join(", "));
    assert.ok(resources.some((r) => r.type === "canary-pipeline:index:CanaryPipeline" && r.name === "billing"));
    // The kubeconfig reaches the GitHub environment as a secret, marked so in the inputs.
    const secrets = resources.filter(
      (r) => r.type === "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
    );
    assert.ok(
      secrets.some((r) => JSON.stringify(r.inputs).includes(secretMarker)),
      "a secret input is marked",
    );
  });

  test("the stack's config and secret keys reach the program; a refused Args rejects the run", async () => {
    const { outputs } = await runProgram({
      project: "platform",
      stack: "prod",
      config: { "platform:replicas": "3", "platform:token": "s3cret" },
      secretKeys: ["platform:token"],
      program: async () => {
        const pulumi = await import("@pulumi/pulumi");
        const config = new pulumi.Config();
        return {
          stack: pulumi.getStack(),
          replicas: config.requireNumber("replicas"),
          token: config.requireSecret("token"),
        };
      },
    });
    assert.deepEqual(outputs, { stack: "prod", replicas: 3, token: "s3cret" });
    await assert.rejects(
      runProgram({ program: () => new CanaryPipeline("bad", { settings: { ...settings, appName: "Not A Name" } }) }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.includes(
          `CanaryPipeline bad: settings.appName: "Not A Name" must be a DNS-1123 label (lower-case letters, digits, '-')`,
        ),
    );
  });

  test("an invoke the mocks do not know fails the run, naming it", async () => {
    const aws = await import("@pulumi/aws");
    await assert.rejects(
      runProgram({ program: () => ({ account: aws.getCallerIdentityOutput().accountId }) }),
      /no answer for invoke aws:index\/getCallerIdentity/,
    );
  });
});
