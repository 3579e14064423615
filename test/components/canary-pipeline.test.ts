// The entry component joins the parts: both stacks render in both cluster authentication modes,
// and what one part hands another arrives (the access entry's group is the RoleBinding's subject,
// the Role is derived from the deploy workflow's operations, the kubeconfig becomes the
// environment's secret, each role ARN becomes the variable its jobs read).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { rulesFor } from "../../components/shared/rbac-rules";
import { deployOperations, rollbackOperations } from "../../components/repository/workflows/deploy";
import { deployerOperations } from "../../components/cluster/canary-cluster";
import { loadStackConfig } from "../../config/load";
import type { StackConfig } from "../../config/schema";
import { renderStack, type Render } from "../../synth/render";
import { readStackFile } from "../../config/stack-file";
import { schemaProblems } from "../../verify/kubernetes-schema";

const tokenSettings = {
  "canary-pipeline:clusterAuth": "token",
  "canary-pipeline:clusterEndpoint": "https://k8s.acme.example:6443",
  "canary-pipeline:clusterCaData": Buffer.from(
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
  ).toString("base64"),
};

// The other stack file beside Pulumi.yaml deploys in eks mode: previewed with this stack in token
// mode, loadStackConfig would refuse the mix. The token variant previews itself alone.
const previewedAlone = (stack: string) => ({ "canary-pipeline:previewStacks": JSON.stringify([stack]) });

for (const stack of ["dev", "prod"]) {
  for (const mode of ["eks", "token"] as const) {
    describe(`${stack} stack, clusterAuth ${mode}`, () => {
      let render: Render;
      let config: StackConfig | undefined;
      before(async () => {
        const settings = readStackFile(`Pulumi.${stack}.yaml`);
        const program = (await import("../../index")).default;
        render = await renderStack({
          stack,
          settings: {
            ...settings,
            config: { ...settings.config, ...(mode === "token" ? { ...tokenSettings, ...previewedAlone(stack) } : {}) },
          },
          // The stack's own program, keeping the configuration it validated.
          program: () => {
            config = loadStackConfig();
            return program();
          },
        });
      });
      const ofType = (type: string) => render.resources.filter((r) => r.type === type);
      const objects = () =>
        [...render.files]
          .filter(([p]) => p.startsWith("kubernetes/"))
          .map(([p, c]) => [p, parse(c) as Record<string, any>] as const); // eslint-disable-line @typescript-eslint/no-explicit-any

      test("every Kubernetes object is valid, strictly", async () => {
        for (const [path, object] of objects()) {
          if (JSON.stringify(object).includes("[secret]")) continue; // redacted maps: validated in the cluster tests
          assert.deepEqual(await schemaProblems(object), [], path);
        }
      });

      test("the Role grants exactly what the deploy workflow's operations need", () => {
        const role = objects().find(([p]) => p.startsWith("kubernetes/Role.") && p.endsWith("-deployer.yaml"))![1];
        assert.deepEqual(
          role.rules,
          JSON.parse(JSON.stringify(rulesFor(deployerOperations(config!, deployOperations(config!))))),
        );
      });

      test("the deployer identity reaches the pipeline", () => {
        const binding = objects().find(
          ([p]) => p.startsWith("kubernetes/RoleBinding.") && p.endsWith("-deployer.yaml"),
        )![1];
        const secrets = ofType("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret").map(
          (r) => r.inputs.secretName,
        );
        if (mode === "eks") {
          const entry = ofType("aws:eks/accessEntry:AccessEntry").filter((r) => r.name.endsWith("-deploy-access"));
          assert.equal(entry.length, 1);
          assert.deepEqual(binding.subjects, [
            {
              kind: "Group",
              name: (entry[0].inputs.kubernetesGroups as string[])[0],
              apiGroup: "rbac.authorization.k8s.io",
            },
          ]);
          assert.ok(!secrets.includes("KUBECONFIG"));
        } else {
          assert.deepEqual(ofType("aws:eks/accessEntry:AccessEntry"), []);
          assert.equal((binding.subjects as { kind: string }[])[0].kind, "ServiceAccount");
          const kubeconfig = ofType("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret").find(
            (r) => r.inputs.secretName === "KUBECONFIG",
          );
          assert.ok(kubeconfig, "the kubeconfig is an environment secret");
          assert.deepEqual(Object.keys(kubeconfig.inputs.plaintextValue as object), ["__secret__"], "and stays secret");
        }
      });

      test("the rollback identity's Role grants exactly what the rollback job's operations need, and reaches the rollback environment", () => {
        const role = objects().find(([p]) => p.startsWith("kubernetes/Role.") && p.endsWith("-rollback.yaml"))![1];
        assert.deepEqual(role.rules, JSON.parse(JSON.stringify(rulesFor(rollbackOperations(config!)))));
        const binding = objects().find(
          ([p]) => p.startsWith("kubernetes/RoleBinding.") && p.endsWith("-rollback.yaml"),
        )![1];
        const environment = `${stack}-rollback`;
        const rollbackEnvironment = ofType("github:index/repositoryEnvironment:RepositoryEnvironment").find(
          (r) => r.inputs.environment === environment,
        );
        assert.ok(rollbackEnvironment, "the stack creates the rollback environment");
        assert.equal(
          rollbackEnvironment.inputs.reviewers,
          undefined,
          "without reviewers: a rollback never waits for an approval",
        );
        const secrets = ofType("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret").filter(
          (r) => r.inputs.environment === environment,
        );
        if (mode === "eks") {
          const entry = ofType("aws:eks/accessEntry:AccessEntry").filter((r) => r.name.endsWith("-rollback-access"));
          assert.equal(entry.length, 1);
          assert.deepEqual(entry[0].inputs.kubernetesGroups, ["orders-api-rollbackers"]);
          assert.deepEqual(binding.subjects, [
            { kind: "Group", name: "orders-api-rollbackers", apiGroup: "rbac.authorization.k8s.io" },
          ]);
          const role = ofType("aws:iam/role:Role").find((r) => r.name.endsWith("-rollback-role"))!;
          const variable = ofType("github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable").find(
            (v) => v.inputs.environment === environment && v.inputs.variableName === "AWS_ROLLBACK_ROLE_ARN",
          );
          assert.ok(String(variable?.inputs.value).endsWith(`:role/${role.name}`));
          assert.ok(!secrets.some((r) => r.inputs.secretName === "ROLLBACK_KUBECONFIG"));
        } else {
          assert.deepEqual(binding.subjects, [
            {
              kind: "ServiceAccount",
              name: "orders-api-rollback",
              namespace: (binding.metadata as { namespace: string }).namespace,
            },
          ]);
          const kubeconfig = secrets.find((r) => r.inputs.secretName === "ROLLBACK_KUBECONFIG");
          assert.ok(kubeconfig, "the rollback kubeconfig is a secret of the rollback environment");
          assert.deepEqual(Object.keys(kubeconfig.inputs.plaintextValue as object), ["__secret__"], "and stays secret");
          assert.ok(
            !secrets.some((r) => r.inputs.secretName === "KUBECONFIG"),
            "the deployer's kubeconfig stays in the gated environment",
          );
        }
      });

      test("each role's ARN is the variable its jobs read", () => {
        const roleVariables = [
          ...ofType("github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"),
          ...ofType("github:index/actionsVariable:ActionsVariable"),
        ].filter((v) => String(v.inputs.variableName).includes("ROLE_ARN"));
        const roleNames = ofType("aws:iam/role:Role").map((r) => r.name);
        assert.equal(roleVariables.length, roleNames.length, "one variable per role");
        for (const v of roleVariables)
          assert.ok(
            roleNames.some((n) => String(v.inputs.value).endsWith(`:role/${n}`)),
            String(v.inputs.variableName),
          );
      });
    });
  }
}

describe("a role exists only if a committed workflow's job assumes it", () => {
  /** The roles and role variables of a stack rendered with some settings changed. */
  async function rolesOf(stack: string, changed: Record<string, string | undefined>) {
    const settings = readStackFile(`Pulumi.${stack}.yaml`);
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...settings.config, ...changed }))
      if (value !== undefined) config[key] = value;
    const { resources } = await renderStack({ stack, settings: { ...settings, config } });
    const names = (type: string, key: string) =>
      resources
        .filter((r) => r.type === type)
        .map((r) => String(key === "name" ? r.name : r.inputs[key]))
        .sort();
    return {
      roles: names("aws:iam/role:Role", "name"),
      variables: names("github:index/actionsVariable:ActionsVariable", "variableName").filter((v) =>
        v.includes("ROLE_ARN"),
      ),
    };
  }
  test("a stack no generated workflow previews has no preview role and no variable for one", async () => {
    // Not in previewStacks, no drift check: no job names AWS_PREVIEW_ROLE_ARN_DEV.
    assert.deepEqual(
      await rolesOf("dev", {
        "canary-pipeline:previewStacks": JSON.stringify(["prod"]),
        "canary-pipeline:driftSchedule": "off",
      }),
      { roles: ["orders-api-roles-deploy-role", "orders-api-roles-rollback-role"], variables: [] },
    );
    // Without a backend neither preview workflow is generated.
    const noBackend = {
      "canary-pipeline:pulumiBackendUrl": undefined,
      "canary-pipeline:pulumiOrganization": undefined,
      "canary-pipeline:pulumiTeam": undefined,
    };
    assert.deepEqual((await rolesOf("prod", noBackend)).roles, [
      "orders-api-roles-deploy-role",
      "orders-api-roles-rollback-role",
    ]);
  });
  test("a stack that leaves infra-preview.yml to the stack with manageRepoWorkflows keeps the preview role that file's job assumes", async () => {
    assert.deepEqual((await rolesOf("prod", { "canary-pipeline:driftSchedule": "off" })).roles, [
      "orders-api-roles-deploy-role",
      "orders-api-roles-preview-role",
      "orders-api-roles-rollback-role",
    ]);
  });
});

describe("the stack's outputs", () => {
  /** The stack program's outputs, whether each is a secret, and what it registered. */
  async function outputsOf(stack: string, file: string, changed: Record<string, string> = {}) {
    const program: () => object = (await import("../../index")).default;
    const secret: Record<string, boolean> = {};
    const settings = readStackFile(file);
    const render = await renderStack({
      stack,
      settings: { ...settings, config: { ...settings.config, ...changed } },
      program: async () => {
        const outputs = program();
        for (const [key, value] of Object.entries(outputs))
          secret[key] = pulumi.Output.isInstance(value) ? await pulumi.isSecret(value) : false;
        return outputs;
      },
    });
    const ofType = (type: string) => render.resources.filter((r) => r.type === type);
    return { outputs: render.outputs, secret, ofType };
  }
  const oidcArn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
  const roleArn = (name: string) => `arn:aws:iam::123456789012:role/${name}`;

  test("dev (eks): the roles, environments, namespace and identities' groups, none secret", async () => {
    const { outputs, secret, ofType } = await outputsOf("dev", "Pulumi.dev.yaml");
    assert.deepEqual(outputs, {
      oidcProviderArn: oidcArn,
      deployRoleArn: roleArn("orders-api-roles-deploy-role"),
      rollbackRoleArn: roleArn("orders-api-roles-rollback-role"),
      previewRoleArn: roleArn("orders-api-roles-preview-role"),
      environment: "dev",
      rollbackEnvironment: "dev-rollback",
      previewEnvironment: "dev-preview",
      driftEnvironment: "dev-drift",
      namespace: "orders-dev",
      deployerGroup: "orders-api-deployers",
      rollbackerGroup: "orders-api-rollbackers",
      previewerGroup: "orders-api-previewers",
    });
    assert.deepEqual(
      Object.entries(secret).filter(([, s]) => s),
      [],
    );
    // Each names what the stack declares: every role and every environment, once.
    assert.deepEqual(
      ofType("aws:iam/role:Role")
        .map((r) => roleArn(r.name))
        .sort(),
      [outputs.deployRoleArn, outputs.previewRoleArn, outputs.rollbackRoleArn].sort(),
    );
    assert.deepEqual(
      ofType("github:index/repositoryEnvironment:RepositoryEnvironment")
        .map((r) => r.inputs.environment)
        .sort(),
      [outputs.environment, outputs.driftEnvironment, outputs.previewEnvironment, outputs.rollbackEnvironment].sort(),
    );
    assert.deepEqual(
      ofType("kubernetes:core/v1:Namespace").map((r) => (r.inputs.metadata as { name: string }).name),
      [outputs.namespace],
    );
    const subjects = ofType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").flatMap(
      (r) => r.inputs.subjects as { kind: string; name: string }[],
    );
    for (const key of ["deployerGroup", "rollbackerGroup", "previewerGroup"] as const) {
      assert.ok(
        subjects.some((s) => s.kind === "Group" && s.name === outputs[key]),
        `${key} is a bound group`,
      );
    }
  });

  test("a stack neither previewed nor drift-checked outputs no preview role or environments", async () => {
    const { outputs } = await outputsOf("dev", "Pulumi.dev.yaml", {
      "canary-pipeline:previewStacks": JSON.stringify(["prod"]),
      "canary-pipeline:driftSchedule": "off",
    });
    assert.deepEqual(
      Object.keys(outputs).filter((k) => k.startsWith("preview") || k.startsWith("drift")),
      [],
    );
    assert.deepEqual([outputs.environment, outputs.rollbackEnvironment], ["dev", "dev-rollback"]);
  });

  test("dev creates the OIDC provider, and its oidcProviderArn is what prod's stack file adopts", async () => {
    const dev = await outputsOf("dev", "Pulumi.dev.yaml");
    assert.equal(dev.ofType("aws:iam/openIdConnectProvider:OpenIdConnectProvider").length, 1);
    const prod = await outputsOf("prod", "Pulumi.prod.yaml");
    assert.equal(prod.ofType("aws:iam/openIdConnectProvider:OpenIdConnectProvider").length, 0);
    assert.equal(
      readStackFile("Pulumi.prod.yaml").config["canary-pipeline:oidcProviderArn"],
      dev.outputs.oidcProviderArn,
    );
    assert.equal(prod.outputs.oidcProviderArn, dev.outputs.oidcProviderArn);
  });

  test("token mode: no deploy or rollback role; the identities' ServiceAccounts, none secret", async () => {
    const { outputs, secret, ofType } = await outputsOf("token", "test/fixtures/Pulumi.token.yaml");
    assert.deepEqual(outputs, {
      oidcProviderArn: oidcArn,
      previewRoleArn: roleArn("billing-roles-preview-role"),
      environment: "token",
      rollbackEnvironment: "token-rollback",
      previewEnvironment: "token-preview",
      driftEnvironment: "token-drift",
      namespace: "billing",
      deployerServiceAccount: "billing-deployer",
      rollbackerServiceAccount: "billing-rollback",
      previewerServiceAccount: "billing-previewer",
    });
    assert.deepEqual(
      Object.entries(secret).filter(([, s]) => s),
      [],
      "the stack's secrets (ghcrPullToken, slackWebhook, the kubeconfigs) stay out",
    );
    assert.deepEqual(
      ofType("aws:iam/role:Role").map((r) => roleArn(r.name)),
      [outputs.previewRoleArn],
    );
    const accounts = ofType("kubernetes:core/v1:ServiceAccount").map(
      (r) => (r.inputs.metadata as { name: string }).name,
    );
    for (const key of ["deployerServiceAccount", "rollbackerServiceAccount", "previewerServiceAccount"] as const)
      assert.ok(accounts.includes(outputs[key]), key);
  });
});
