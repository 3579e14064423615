// The cluster's location and the OIDC provider's ARN may be Outputs of the same program (a cluster
// it creates or looks up): they take the place of the settings and are held to the settings'
// rules once known. A plain value is checked before anything registers.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CanaryPipeline, ConfigError, GithubOidcProvider, type ServiceSettings } from "../../library";
import { projectName } from "../../config/schema";
import { runProgram, type RegisteredResource } from "../../testing/mock-engine";
import { renderStack } from "../../synth/render";

const eks: ServiceSettings = {
  githubOwner: "acme",
  githubRepository: "orders-api",
  appName: "orders-api",
  awsRegion: "eu-west-1",
  initialImage: "ghcr.io/acme/orders-api:1.4.2",
};
const token: ServiceSettings = { ...eks, clusterAuth: "token" };
const ca = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64");
const render = (program: () => unknown, registrations?: RegisteredResource[]) =>
  renderStack({
    stack: "dev",
    settings: { config: {}, secretKeys: [] },
    program,
    ...(registrations ? { registrations } : {}),
  });
const ofType = (resources: RegisteredResource[], type: string) => resources.filter((r) => r.type === type);
const unwrap = (value: unknown) => (value as { __secret__?: unknown }).__secret__ ?? value;

describe("Inputs in place of settings", () => {
  test("eksClusterName from a looked-up cluster reaches the access entry, the deploy policy and the variable", async () => {
    const { resources } = await render(() => {
      const cluster = aws.eks.getClusterOutput({ name: "acme-prod" });
      new CanaryPipeline("orders", { settings: eks, eksClusterName: cluster.name });
    });
    // The deploy and rollback roles' entries.
    assert.deepEqual(
      ofType(resources, "aws:eks/accessEntry:AccessEntry").map((r) => r.inputs.clusterName),
      ["acme-prod", "acme-prod"],
    );
    const policy = ofType(resources, "aws:iam/rolePolicy:RolePolicy").find((r) => r.name.includes("deploy"))!;
    assert.match(String(policy.inputs.policy), /arn:aws:eks:eu-west-1:123456789012:cluster\/acme-prod/);
    const variables = ofType(resources, "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable");
    assert.equal(variables.find((r) => r.inputs.variableName === "EKS_CLUSTER_NAME")?.inputs.value, "acme-prod");
  });

  test("clusterEndpoint and clusterCaData from a cluster reach the deployer's kubeconfig", async () => {
    const { resources } = await render(() => {
      const cluster = aws.eks.getClusterOutput({ name: "acme-prod" });
      new CanaryPipeline("orders", {
        settings: token,
        clusterEndpoint: cluster.endpoint,
        clusterCaData: cluster.certificateAuthorities[0].data,
      });
    });
    const secret = ofType(resources, "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret").find(
      (r) => r.inputs.secretName === "KUBECONFIG",
    )!;
    const kubeconfig = String(unwrap(secret.inputs.plaintextValue));
    assert.match(kubeconfig, /server: https:\/\/\d+\.gr7\.eu-west-1\.eks\.amazonaws\.com/);
    assert.match(
      kubeconfig,
      new RegExp(
        `certificate-authority-data: ${Buffer.from("-----BEGIN CERTIFICATE-----\nacme-prod\n-----END CERTIFICATE-----\n").toString("base64")}`,
      ),
    );
  });

  test("an Output that breaks the setting's rule fails the run, naming the key", async () => {
    await assert.rejects(
      render(() => {
        new CanaryPipeline("orders", { settings: eks, eksClusterName: pulumi.output("acme prod!") });
      }),
      /CanaryPipeline orders: eksClusterName: "acme prod!" must be an EKS cluster name/,
    );
    await assert.rejects(
      render(() => {
        new CanaryPipeline("orders", {
          settings: token,
          clusterEndpoint: pulumi.output("http://k8s.acme.example"),
          clusterCaData: ca,
        });
      }),
      /CanaryPipeline orders: clusterEndpoint: "http:\/\/k8s.acme.example" must be the cluster API server's https:\/\/ URL/,
    );
    await assert.rejects(
      render(() => {
        new CanaryPipeline("orders", {
          settings: { ...eks, eksClusterName: "acme-prod" },
          oidcProviderArn: pulumi.output("arn:aws:iam::123456789012:oidc-provider/accounts.google.com"),
        });
      }),
      /CanaryPipeline orders: oidcProviderArn: .* must be the ARN of an IAM OIDC provider for token.actions.githubusercontent.com/,
    );
    await assert.rejects(
      render(() => {
        new GithubOidcProvider("github", { existingProviderArn: pulumi.output("arn:aws:iam::1:oidc-provider/x") });
      }),
      /GithubOidcProvider github: existingProviderArn: .* must be the ARN of an IAM OIDC provider/,
    );
  });

  test("a plain value is checked before anything registers", () => {
    assert.throws(
      () => new CanaryPipeline("orders", { settings: eks, eksClusterName: "acme prod!" }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /CanaryPipeline orders: eksClusterName: "acme prod!" must be an EKS cluster name/.test(e.message),
    );
  });

  test("a kubeconfig that is no kubeconfig is refused without printing it", async () => {
    const contents = "apiVersion: v1\nkind: Config\ntoken: s3cret\n";
    await assert.rejects(
      render(() => {
        new CanaryPipeline("orders", {
          settings: { ...eks, eksClusterName: "acme-prod" },
          kubeconfig: pulumi.secret(contents),
        });
      }),
      (e: unknown) =>
        e instanceof Error &&
        /CanaryCluster orders-cluster: kubeconfig: is not a kubeconfig: it must list clusters and contexts/.test(
          e.message,
        ) &&
        !e.message.includes("s3cret"),
    );
  });

  test("a location given both in the settings and in the Args is refused", () => {
    assert.throws(
      () =>
        new CanaryPipeline("orders", {
          settings: { ...eks, eksClusterName: "acme-prod" },
          eksClusterName: pulumi.output("acme-prod"),
        }),
      /CanaryPipeline orders: eksClusterName: is given in settings\.eksClusterName too: give it once/,
    );
  });

  test("without either, the setting is still required, named by its place in the Args", () => {
    assert.throws(
      () => new CanaryPipeline("orders", { settings: eks }),
      /CanaryPipeline orders: settings\.eksClusterName: is required with clusterAuth eks/,
    );
  });
});

describe("an Output that resolves to a bad value fails once", () => {
  test("one error, a ConfigError on the CanaryPipeline: every rejection the SDK raises for the resources that read it is that same error, its message one line", async () => {
    const rejections: unknown[] = [];
    let pipeline: CanaryPipeline | undefined;
    const error = await runProgram({
      project: projectName,
      stack: "dev",
      config: {},
      secretKeys: [],
      rejections,
      program: () => {
        pipeline = new CanaryPipeline("orders", { settings: eks, eksClusterName: pulumi.output("acme prod!") });
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigError, String(error));
    assert.ok(
      pulumi.ResourceError.isInstance(error) && error.resource === pipeline && error.hideStack,
      "a ResourceError on the component, without its stack",
    );
    assert.equal(
      error.message,
      'Invalid configuration:\n  CanaryPipeline orders: eksClusterName: "acme prod!" must be an EKS cluster name',
    );
    assert.deepEqual(error.errors, [
      { propertyPath: "eksClusterName", reason: '"acme prod!" must be an EKS cluster name' },
    ]);
    // The language host reports each error once (it dedupes by identity): here, one error.
    assert.ok(rejections.length > 0);
    assert.equal(new Set(rejections).size, 1, "one error, whatever number of resources read the value");
    assert.equal(rejections[0], error);
  });
});

describe("settings named as the program wrote them", () => {
  test("a region that does not exist names settings.awsRegion and the nearest region, not the stack's aws:region", () => {
    assert.throws(
      () => new CanaryPipeline("orders", { settings: { ...eks, eksClusterName: "acme-prod", awsRegion: "eu-wset-1" } }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          'CanaryPipeline orders: settings.awsRegion: "eu-wset-1" must be an AWS region: did you mean eu-west-1?',
        ]);
        return true;
      },
    );
    assert.throws(
      () => new CanaryPipeline("orders", { settings: { ...eks, eksClusterName: "acme-prod", awsRegion: undefined } }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.join() ===
          "CanaryPipeline orders: settings.awsRegion: is required with clusterAuth eks: add awsRegion to settings",
    );
  });

  test("a drift schedule with an hour of 25, and every other problem, at once; a nested key by its path", () => {
    const settings = {
      ...eks,
      eksClusterName: "acme-prod",
      driftSchedule: "0 25 * * *",
      replicas: 0,
      canaryAnalysis: { prometheusUrl: "http://prometheus:9090", metrics: [{ name: "errors", query: "up", max: 1 }] },
    };
    assert.throws(
      () => new CanaryPipeline("orders", { settings }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          'CanaryPipeline orders: settings.driftSchedule: "0 25 * * *" must be a cron schedule of five fields (UTC) such as 0 6 * * 1-5, or off: its hour field 25 is refused (Constraint error, got value 25 expected range 0-23)',
          "CanaryPipeline orders: settings.replicas: 0 must be a whole number from 1 to 100",
          `CanaryPipeline orders: settings.canaryAnalysis.metrics[0].query: "up" must contain $track where the pods' track label goes (track="$track"): it is replaced by canary, then by stable`,
        ]);
        return true;
      },
    );
  });

  test("a key that is no setting is named in the settings", () => {
    assert.throws(
      () =>
        new CanaryPipeline("orders", {
          settings: { ...eks, eksClusterName: "acme-prod", replica: 3 } as ServiceSettings,
        }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.join() ===
          "CanaryPipeline orders: settings.replica: is not a setting: ServiceSettings lists the valid keys",
    );
  });

  test("a validated config names its keys by the Args path, or as the stack's when the stack entry says so", async () => {
    const { parseStackConfig, stackSettingNames } = await import("../../library");
    const config = parseStackConfig(
      { ...eks, eksClusterName: "acme-prod", canaryLifetimeMinutes: 20, canaryBakeSeconds: 1800 },
      "dev",
      { ghcrPullToken: false, slackWebhook: false },
    );
    const lifetime =
      "20 is shorter than the canary job's 77 minutes: the reaper would scale the canary to 0 while its job still tests it; set it to 77 or more";
    assert.throws(
      () => new CanaryPipeline("orders", { config }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.join() === `CanaryPipeline orders: config.canaryLifetimeMinutes: ${lifetime}`,
    );
    assert.throws(
      () => new CanaryPipeline("orders", { config, settingNames: stackSettingNames }),
      (error: unknown) =>
        error instanceof ConfigError && error.problems.join() === `canary-pipeline:canaryLifetimeMinutes: ${lifetime}`,
    );
  });
});
