// The entry component joins the parts: both stacks render in both cluster authentication modes,
// and what one part hands another arrives (the access entry's group is the RoleBinding's subject,
// the Role is derived from the deploy workflow's operations, the kubeconfig becomes the
// environment's secret, each role ARN becomes the variable its jobs read).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { parse } from "yaml";
import { rulesFor } from "../../components/shared/cluster-operations";
import { deployOperations } from "../../components/repository/workflows/deploy";
import { loadStackConfig } from "../../config/load";
import type { StackConfig } from "../../config/schema";
import { renderStack, type Render } from "../../synth/render";
import { readStackFile } from "../../synth/stack-file";
import { schemaProblems } from "../../verify/kubernetes-schema";

const tokenSettings = {
  "canary-pipeline:clusterAuth": "token",
  "canary-pipeline:clusterEndpoint": "https://k8s.acme.example:6443",
  "canary-pipeline:clusterCaData": Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64"),
};

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
          settings: { ...settings, config: { ...settings.config, ...(mode === "token" ? tokenSettings : {}) } },
          // The stack's own program, keeping the configuration it validated.
          program: () => { config = loadStackConfig(); return program(); },
        });
      });
      const ofType = (type: string) => render.resources.filter((r) => r.type === type);
      const objects = () => [...render.files].filter(([p]) => p.startsWith("kubernetes/")).map(([p, c]) => [p, parse(c) as Record<string, any>] as const); // eslint-disable-line @typescript-eslint/no-explicit-any

      test("every Kubernetes object is valid, strictly", async () => {
        for (const [path, object] of objects()) {
          if (JSON.stringify(object).includes("[secret]")) continue; // redacted maps: validated in the cluster tests
          assert.deepEqual(await schemaProblems(object), [], path);
        }
      });

      test("the Role grants exactly what the deploy workflow's operations need", () => {
        const role = objects().find(([p]) => p.startsWith("kubernetes/Role."))![1];
        assert.deepEqual(role.rules, JSON.parse(JSON.stringify(rulesFor(deployOperations(config!)))));
      });

      test("the deployer identity reaches the pipeline", () => {
        const binding = objects().find(([p]) => p.startsWith("kubernetes/RoleBinding."))![1];
        const secrets = ofType("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret").map((r) => r.inputs.secretName);
        if (mode === "eks") {
          const entry = ofType("aws:eks/accessEntry:AccessEntry");
          assert.equal(entry.length, 1);
          assert.deepEqual(binding.subjects, [{ kind: "Group", name: (entry[0].inputs.kubernetesGroups as string[])[0], apiGroup: "rbac.authorization.k8s.io" }]);
          assert.ok(!secrets.includes("KUBECONFIG"));
        } else {
          assert.deepEqual(ofType("aws:eks/accessEntry:AccessEntry"), []);
          assert.equal((binding.subjects as { kind: string }[])[0].kind, "ServiceAccount");
          const kubeconfig = ofType("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret").find((r) => r.inputs.secretName === "KUBECONFIG");
          assert.ok(kubeconfig, "the kubeconfig is an environment secret");
          assert.deepEqual(Object.keys(kubeconfig.inputs.plaintextValue as object), ["__secret__"], "and stays secret");
        }
      });

      test("each role's ARN is the variable its jobs read", () => {
        const roleVariables = [...ofType("github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"), ...ofType("github:index/actionsVariable:ActionsVariable")]
          .filter((v) => String(v.inputs.variableName).includes("ROLE_ARN"));
        const roleNames = ofType("aws:iam/role:Role").map((r) => r.name);
        assert.equal(roleVariables.length, roleNames.length, "one variable per role");
        for (const v of roleVariables) assert.ok(roleNames.some((n) => String(v.inputs.value).endsWith(`:role/${n}`)), String(v.inputs.variableName));
      });
    });
  }
}
