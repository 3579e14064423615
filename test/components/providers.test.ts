// The components plug into a stack's own providers, as Pulumi components do: a provider in the
// resource options (opts.providers as a map or a list, opts.provider, or a parent's) is used, and
// then no second one of that package is created. Two different ones, or a Kubernetes provider that
// may apply server-side, are refused.
import * as aws from "@pulumi/aws";
import * as github from "@pulumi/github";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CanaryPipeline, CanaryWorkload, ClientSideApplyProvider, type ServiceSettings } from "../../library";
import type { RegisteredResource } from "../../testing/mock-engine";
import { renderStack } from "../../synth/render";

const settings: ServiceSettings = {
  githubOwner: "acme",
  githubRepository: "orders-api",
  appName: "orders-api",
  awsRegion: "eu-west-1",
  eksClusterName: "acme-prod",
  initialImage: "ghcr.io/acme/orders-api:1.4.2",
};
const render = (program: () => unknown) =>
  renderStack({ stack: "dev", settings: { config: {}, secretKeys: [] }, program });

/** The providers of `pkg` registered, and the provider each custom resource of `pkg` went through. */
function providersOf(resources: RegisteredResource[], pkg: string) {
  const declared = resources.filter((r) => r.type === `pulumi:providers:${pkg}`).map((r) => r.name);
  const used = new Set(
    resources
      .filter((r) => r.custom && r.type.startsWith(`${pkg}:`) && !r.type.startsWith("pulumi:"))
      .map((r) => r.provider?.split("::").pop()),
  );
  return { declared, used: [...used] };
}

/** The stack's own providers, one per package, as a platform program declares them. */
const stackProviders = () => ({
  kubernetes: new ClientSideApplyProvider("cluster", { context: "acme-prod" }),
  github: new github.Provider("github", { owner: "acme" }),
  aws: new aws.Provider("aws-eu", { region: "eu-west-1" }),
});

describe("opts.providers", () => {
  for (const form of ["map", "list"] as const) {
    test(`CanaryPipeline uses the providers of its options (${form}) and creates none of its own`, async () => {
      const { resources } = await render(() => {
        const p = stackProviders();
        new CanaryPipeline("orders", { settings }, { providers: form === "map" ? p : [p.kubernetes, p.github, p.aws] });
      });
      assert.deepEqual(providersOf(resources, "kubernetes"), { declared: ["cluster"], used: ["cluster"] });
      assert.deepEqual(providersOf(resources, "github"), { declared: ["github"], used: ["github"] });
      assert.deepEqual(providersOf(resources, "aws"), { declared: ["aws-eu"], used: ["aws-eu"] });
    });
  }

  test("without them, the component creates its own Kubernetes and GitHub providers", async () => {
    const { resources } = await render(() => {
      new CanaryPipeline("orders", { settings });
    });
    assert.deepEqual(providersOf(resources, "kubernetes").declared, ["orders-cluster-kubernetes"]);
    assert.deepEqual(providersOf(resources, "github").declared, ["orders-repository-github"]);
  });

  test("a parent's providers reach the component", async () => {
    const { resources } = await render(() => {
      const p = stackProviders();
      const team = new pulumi.ComponentResource(
        "acme:platform:Team",
        "payments",
        {},
        { providers: [p.kubernetes, p.github] },
      );
      new CanaryPipeline("orders", { settings }, { parent: team });
    });
    assert.deepEqual(providersOf(resources, "kubernetes"), { declared: ["cluster"], used: ["cluster"] });
    assert.deepEqual(providersOf(resources, "github"), { declared: ["github"], used: ["github"] });
  });

  test("a building block takes opts.provider", async () => {
    const { resources } = await render(() => {
      const cluster = new ClientSideApplyProvider("cluster", { context: "acme-prod" });
      new CanaryWorkload(
        "orders",
        {
          appName: "orders-api",
          namespace: "orders",
          containerPort: 3000,
          healthPath: "/healthz",
          replicas: 3,
          initialImage: "ghcr.io/acme/orders-api:1.4.2",
        },
        { provider: cluster },
      );
    });
    assert.deepEqual(providersOf(resources, "kubernetes"), { declared: ["cluster"], used: ["cluster"] });
  });

  test("the Args and the options naming different providers are refused", async () => {
    await assert.rejects(
      render(() => {
        const p = stackProviders();
        new CanaryPipeline(
          "orders",
          { settings, kubernetesProvider: new ClientSideApplyProvider("other") },
          { providers: p },
        );
      }),
      /CanaryPipeline orders: kubernetesProvider: is another kubernetes provider than the one in the resource options .*: give one of them/,
    );
    await assert.rejects(
      render(() => {
        new CanaryPipeline(
          "orders",
          { settings, githubProvider: new github.Provider("other") },
          { providers: [new github.Provider("github")] },
        );
      }),
      /CanaryPipeline orders: githubProvider: is another github provider than the one in the resource options .*: give one of them/,
    );
  });

  test("the same provider in both is accepted", async () => {
    const { resources } = await render(() => {
      const p = stackProviders();
      new CanaryPipeline(
        "orders",
        { settings, kubernetesProvider: p.kubernetes, githubProvider: p.github },
        { providers: p },
      );
    });
    assert.deepEqual(providersOf(resources, "kubernetes").declared, ["cluster"]);
  });

  test("a kubeconfig with a provider in the options is refused", async () => {
    await assert.rejects(
      render(() => {
        new CanaryPipeline(
          "orders",
          { settings, kubeconfig: "apiVersion: v1\nkind: Config\n" },
          { providers: [new ClientSideApplyProvider("cluster")] },
        );
      }),
      /CanaryPipeline orders: kubeconfig: is given with a kubernetes provider \(in the resource options\): give one of them/,
    );
  });

  test("a plain Kubernetes provider is refused: it may apply server-side", async () => {
    await assert.rejects(
      render(() => {
        new CanaryPipeline("orders", { settings }, { providers: [new k8s.Provider("cluster")] });
      }),
      /CanaryPipeline orders: opts\.providers: must be a ClientSideApplyProvider .*new ClientSideApplyProvider\(name, \{ kubeconfig \}\)/,
    );
  });
});
