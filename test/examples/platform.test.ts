// The platform example: three services from one program, one shared OIDC provider, each service's
// objects, policies and workflow files apart from the others'.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { CanaryPipeline, ClientSideApplyProvider, ConfigError, type ServiceSettings } from "../../library";
import platformProgram, { services } from "../../examples/platform/index";
import { projectName } from "../../config/schema";
import { runProgram, type RegisteredResource } from "../../testing/mock-engine";
import { renderStack, type Render } from "../../synth/render";

const type = {
  pipeline: "canary-pipeline:index:CanaryPipeline",
  oidc: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  role: "aws:iam/role:Role",
  envSecret: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
  file: "github:index/repositoryFile:RepositoryFile",
};
const empty = { config: {}, secretKeys: [] };

/** The resources under the pipeline component named `service`. */
const under = (resources: RegisteredResource[], service: string) =>
  resources.filter(
    (r) =>
      r.urn.includes("canary-pipeline:index:CanaryPipeline$") &&
      r.urn.endsWith(`::${r.name}`) &&
      r.name.startsWith(`${service}-`),
  );

describe("examples/platform", () => {
  let render: Render;
  before(async () => {
    render = await renderStack({ stack: "platform", settings: empty, program: platformProgram });
  });

  test("three services, one OIDC provider shared by every role", () => {
    const pipelines = render.resources.filter((r) => r.type === type.pipeline);
    assert.deepEqual(pipelines.map((r) => r.name).sort(), ["billing", "orders", "search"]);
    const [provider, ...others] = render.resources.filter((r) => r.type === type.oidc);
    assert.equal(others.length, 0, "one provider");
    const component = render.resources.find((r) => r.urn === provider.parent)!;
    assert.equal(component.type, "canary-pipeline:aws:GithubOidcProvider");
    assert.match(
      component.parent ?? "",
      /::pulumi:pulumi:Stack::canary-pipeline-platform$/,
      "standalone, owned by no service",
    );
    const roles = render.resources.filter((r) => r.type === type.role);
    assert.ok(roles.length >= 2);
    for (const role of roles)
      assert.ok(role.dependencies.includes(provider.urn), `${role.name} trusts the shared provider`);
  });

  test("one Kubernetes provider per cluster and one GitHub provider, shared by the services", () => {
    const providers = (pkg: string) => render.resources.filter((r) => r.type === `pulumi:providers:${pkg}`);
    assert.deepEqual(
      providers("kubernetes")
        .map((p) => [p.name, p.inputs.context, p.inputs.enableServerSideApply])
        .sort(),
      [
        ["billing-cluster", "billing", "false"],
        ["shared-cluster", "acme-shared", "false"],
      ],
    );
    assert.deepEqual(
      providers("github").map((p) => [p.name, p.inputs.owner]),
      [["github-acme", "acme"]],
    );
    for (const p of [...providers("kubernetes"), ...providers("github")])
      assert.match(p.parent ?? "", /::pulumi:pulumi:Stack::/, `${p.name}: owned by no service`);
    const through = (service: string, pkg: string) =>
      new Set(
        under(render.resources, service)
          .filter((r) => r.custom && r.type.startsWith(`${pkg}:`))
          .map((r) => r.provider?.split("::").pop()),
      );
    assert.deepEqual([...through("orders", "kubernetes")], ["shared-cluster"]);
    assert.deepEqual([...through("search", "kubernetes")], ["shared-cluster"]);
    assert.deepEqual([...through("billing", "kubernetes")], ["billing-cluster"]);
    for (const service of Object.keys(services))
      assert.deepEqual([...through(service, "github")], ["github-acme"], service);
  });

  test("the shared cluster's name comes from its lookup, an Output", () => {
    const entries = (service: string) =>
      under(render.resources, service)
        .filter((r) => r.type === "aws:eks/accessEntry:AccessEntry")
        .map((r) => r.inputs.clusterName);
    // Each service's deploy and rollback roles' entries.
    assert.deepEqual(
      [...entries("orders"), ...entries("search")],
      ["acme-shared", "acme-shared", "acme-shared", "acme-shared"],
    );
    for (const service of ["orders", "search"])
      assert.equal(services[service].eksClusterName, undefined, `${service}: not a setting`);
  });

  test("the token service: a kubeconfig environment secret, no deploy role", () => {
    const billing = under(render.resources, "billing");
    assert.ok(billing.length > 10);
    const secrets = billing.filter((r) => r.type === type.envSecret);
    // The deployer's kubeconfig in the gated environment, the rollback identity's in the rollback environment.
    assert.deepEqual(
      secrets.map((r) => [r.inputs.secretName, r.inputs.environment]),
      [
        ["KUBECONFIG", "platform"],
        ["ROLLBACK_KUBECONFIG", "platform-rollback"],
      ],
    );
    for (const secret of secrets)
      assert.deepEqual(
        secret.inputs.plaintextValue && Object.keys(secret.inputs.plaintextValue),
        ["__secret__"],
        "kept secret",
      );
    assert.equal(billing.filter((r) => r.type === type.role && r.name.includes("deploy")).length, 0);
    assert.equal(
      under(render.resources, "orders").filter((r) => r.type === type.role && r.name.includes("deploy")).length,
      1,
    );
  });

  test("the unsigned service has no cosign step; the signed ones have", () => {
    const deploy = (repository: string) =>
      render.files.get(`repo/${repository}/.github/workflows/deploy-platform.yml`) ?? "";
    assert.doesNotMatch(deploy("search"), /cosign/);
    assert.match(deploy("orders-api"), /cosign/);
    assert.match(deploy("billing"), /cosign/);
  });

  test("every Kubernetes object, policy document and workflow file has its own path", () => {
    const paths = [...render.files.keys()];
    // artifacts() refuses two resources rendering to one path; here: each service has its own.
    for (const [service, settings] of Object.entries(services)) {
      assert.ok(
        paths.some((p) => p.startsWith(`kubernetes/Deployment.${settings.namespace}.`)),
        service,
      );
      assert.ok(
        paths.some((p) => p.startsWith(`repo/${settings.githubRepository}/.github/workflows/`)),
        service,
      );
    }
    const kubernetes = render.resources.filter(
      (r) => r.custom && r.type.startsWith("kubernetes:") && typeof r.inputs.kind === "string",
    );
    assert.equal(paths.filter((p) => p.startsWith("kubernetes/")).length, kubernetes.length);
    assert.equal(
      paths.filter((p) => p.startsWith("repo/")).length,
      render.resources.filter((r) => r.type === type.file).length,
    );
    assert.ok(paths.filter((p) => p.startsWith("aws/")).length >= 4);
  });
});

test("raw settings are validated before anything registers; the error names the service", async () => {
  const settings = { ...services.orders, replicas: 0 } satisfies ServiceSettings;
  const registrations: RegisteredResource[] = [];
  await assert.rejects(
    renderStack({
      stack: "platform",
      settings: empty,
      registrations,
      program: () => new CanaryPipeline("orders", { settings }),
    }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.problems.includes("CanaryPipeline orders: settings.replicas: 0 must be a whole number from 1 to 100"),
  );
  assert.deepEqual(
    registrations.filter((r) => r.type !== "pulumi:pulumi:Stack"),
    [],
  );
});

test("a shared Kubernetes provider and a kubeconfig of the service's own are refused together, before the service registers", async () => {
  const registrations: RegisteredResource[] = [];
  await assert.rejects(
    renderStack({
      stack: "platform",
      settings: empty,
      registrations,
      program: () =>
        new CanaryPipeline("orders", {
          settings: services.orders,
          kubeconfig: "~/.kube/orders",
          kubernetesProvider: new ClientSideApplyProvider("shared-cluster"),
        }),
    }),
    (error: unknown) =>
      error instanceof ConfigError &&
      /CanaryPipeline orders: kubeconfig: is given with a kubernetes provider \(kubernetesProvider\): give one of them/.test(
        error.message,
      ),
  );
  assert.deepEqual(registrations.map((r) => r.type).sort(), ["pulumi:providers:kubernetes", "pulumi:pulumi:Stack"]);
});

describe("two services of one app name and namespace on one cluster", () => {
  const twice = (
    second: ServiceSettings,
    opts: (shared: ClientSideApplyProvider) => { first?: object; second?: object } = () => ({}),
  ) => {
    const registrations: RegisteredResource[] = [];
    // Under the mock engine alone: the offline render's files are named by namespace, not cluster.
    const run = runProgram({
      project: projectName,
      stack: "platform",
      config: {},
      secretKeys: [],
      registrations,
      program: () => {
        const shared = new ClientSideApplyProvider("shared-cluster");
        const { first, second: secondOpts } = opts(shared);
        new CanaryPipeline("orders", { settings: { ...services.orders, eksClusterName: "acme-shared" } }, first);
        new CanaryPipeline("orders-copy", { settings: second }, secondOpts);
      },
    });
    return { run, registrations };
  };
  const copy = {
    ...services.orders,
    githubRepository: "orders-copy",
    eksClusterName: "acme-shared",
  } satisfies ServiceSettings;

  test("the second is refused before it registers anything, naming both", async () => {
    const { run, registrations } = twice(copy);
    await assert.rejects(run, (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.deepEqual(error.problems, [
        'CanaryPipeline orders-copy: settings.appName: "orders-api" in namespace orders on the EKS cluster acme-shared in eu-west-1 is already the service of CanaryPipeline orders\'s (settings.appName): the two would declare the same Deployments, Services and Roles; give one of them another appName or namespace',
      ]);
      return true;
    });
    assert.deepEqual(
      registrations.filter((r) => r.urn.includes("orders-copy")),
      [],
      "nothing of the second",
    );
  });

  test("one shared Kubernetes provider is one cluster, whatever the settings say", async () => {
    const { run } = twice({ ...copy, eksClusterName: "elsewhere" }, (shared) => ({
      first: { providers: [shared] },
      second: { providers: [shared] },
    }));
    await assert.rejects(
      run,
      /CanaryPipeline orders-copy: settings\.appName: "orders-api" in namespace orders on the same Kubernetes provider is already the service of CanaryPipeline orders's/,
    );
  });

  test("another namespace, another app name or another cluster is another service", async () => {
    const others = [
      { ...copy, namespace: "orders-copy" },
      { ...copy, appName: "orders-copy", createNamespace: false },
      { ...copy, eksClusterName: "acme-other" },
      { ...copy, awsRegion: "eu-central-1" },
    ];
    // One program declaring them all beside orders: none is refused.
    const { resources } = await runProgram({
      project: projectName,
      stack: "platform",
      config: {},
      secretKeys: [],
      program: () => {
        new CanaryPipeline("orders", { settings: { ...services.orders, eksClusterName: "acme-shared" } });
        others.forEach((settings, i) => new CanaryPipeline(`orders-${i}`, { settings }));
      },
    });
    assert.equal(resources.filter((r) => r.type === "canary-pipeline:index:CanaryPipeline").length, 5);
  });

  test("two services of one namespace: one creates it", async () => {
    await assert.rejects(
      twice({ ...copy, appName: "orders-copy" }).run,
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.join() ===
          "CanaryPipeline orders-copy: settings.createNamespace: true, but namespace orders on the EKS cluster acme-shared in eu-west-1 is created by CanaryPipeline orders's (settings.createNamespace) already: set it false for all services of the namespace but one",
    );
  });

  test("CanaryCluster on its own claims its place too", async () => {
    const { CanaryCluster, parseStackConfig } = await import("../../library");
    const config = parseStackConfig({ ...services.orders, eksClusterName: "acme-shared" }, "platform", {
      ghcrPullToken: false,
      slackWebhook: false,
    });
    await assert.rejects(
      renderStack({
        stack: "platform",
        settings: empty,
        program: () => {
          new CanaryPipeline("orders", { config });
          new CanaryCluster("orders-again", { config, operations: [] });
        },
      }),
      /CanaryCluster orders-again: config\.appName: "orders-api" in namespace orders on the EKS cluster acme-shared in eu-west-1 is already the service of CanaryPipeline orders's \(config\.appName\)/,
    );
  });
});

test("npm run synth -- --program renders the example without a stack file", () => {
  const out = join(mkdtempSync(join(tmpdir(), "platform-")), "out");
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", "synth/cli.ts", "--program", "examples/platform/index.ts", "--stack", "platform", "--out", out],
    { encoding: "utf8" },
  );
  assert.equal(run.status, 0, run.stderr);
  assert.ok(existsSync(join(out, "repo", "search", ".github", "workflows", "deploy-platform.yml")));
});
