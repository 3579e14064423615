// The rollback job's identity: a Role with exactly the rules of rollbackOperations (get and scale
// the canary Deployment, nothing else), bound to a ServiceAccount whose kubeconfig is a secret
// output (clusterAuth token) or to the rollback role's group (clusterAuth eks); declared only when
// asked for, and read by the preview like every other object.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment --
   rendered objects are untyped YAML. */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ClusterRollbacker, defaultRollbackGroup } from "../../../components/cluster/cluster-rollbacker";
import { rollbackOperations } from "../../../components/repository/workflows/deploy";
import { clusterOperations, clusterTargets } from "../../../components/shared/cluster-operations";
import { rulesFor } from "../../../components/shared/rbac-rules";
import { mockServiceAccountToken } from "../../../testing/mock-engine";
import { renderCluster, stackConfig, type ClusterRender } from "../cluster-render";

const role = "Role.orders-dev.orders-api-rollback";
const binding = "RoleBinding.orders-dev.orders-api-rollback";

for (const mode of ["token", "eks"] as const) {
  describe(`rollback identity (clusterAuth ${mode})`, () => {
    let r: ClusterRender;
    before(async () => {
      const config = stackConfig(mode);
      r = await renderCluster(config, { rollback: { operations: rollbackOperations(config) }, preview: true });
    });

    test("its rules are exactly rulesFor(rollbackOperations): get and scale the canary Deployment by name", () => {
      const rules = r.object(role).rules;
      assert.deepEqual(rules, JSON.parse(JSON.stringify(rulesFor(rollbackOperations(r.config)))));
      const t = clusterTargets(r.config);
      assert.notDeepEqual(
        rules,
        JSON.parse(
          JSON.stringify(
            rulesFor([...rollbackOperations(r.config), clusterOperations.scale(t, t.stableDeployment, 0)]),
          ),
        ),
      );
      assert.deepEqual(rules, [
        { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"], resourceNames: ["orders-api-canary"] },
        // kubectl scale --resource-version: a get and an update of the scale (only if unchanged since read).
        {
          apiGroups: ["apps"],
          resources: ["deployments/scale"],
          verbs: ["get", "update"],
          resourceNames: ["orders-api-canary"],
        },
      ]);
      assert.equal(r.object(role).metadata.namespace, "orders-dev");
      assert.deepEqual(r.object(binding).roleRef, {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: "orders-api-rollback",
      });
    });

    test("the preview's Role reads its objects, as every other object of the stack", () => {
      const reads = (
        r.object("Role.orders-dev.orders-api-previewer").rules as { resources: string[]; resourceNames?: string[] }[]
      ).filter(
        (rule) =>
          rule.resources[0] === "roles" ||
          rule.resources[0] === "rolebindings" ||
          rule.resources[0] === "serviceaccounts",
      );
      for (const rule of reads) {
        const expected = !(mode === "eks" && rule.resources[0] === "serviceaccounts"); // eks: no ServiceAccount
        assert.equal(rule.resourceNames?.includes("orders-api-rollback"), expected, rule.resources[0]);
      }
    });

    if (mode === "token") {
      test("binds a ServiceAccount whose token is the rollbackKubeconfig output, secret end to end; no file carries the token", async () => {
        assert.deepEqual(r.object(binding).subjects, [
          { kind: "ServiceAccount", name: "orders-api-rollback", namespace: "orders-dev" },
        ]);
        assert.equal(r.object("ServiceAccount.orders-dev.orders-api-rollback").automountServiceAccountToken, false);
        assert.equal(
          r.object("Secret.orders-dev.orders-api-rollback-token").metadata.annotations[
            "kubernetes.io/service-account.name"
          ],
          "orders-api-rollback",
        );
        assert.equal(await pulumi.isSecret(r.cluster.rollbackKubeconfig!), true);
        const kubeconfig = parse(r.outputs.rollbackKubeconfig as string);
        assert.equal(kubeconfig.clusters[0].cluster.server, r.config.clusterEndpoint);
        assert.equal(kubeconfig.users[0].user.token, mockServiceAccountToken);
        assert.equal(kubeconfig.contexts[0].context.namespace, "orders-dev");
        assert.equal(r.cluster.rollbackerGroup, undefined);
        for (const [path, content] of r.files) assert.ok(!content.includes(mockServiceAccountToken), path);
      });
    } else {
      test("binds the rollback role's group, default `${appName}-rollbackers`; no ServiceAccount, no token", async () => {
        assert.deepEqual(r.object(binding).subjects, [
          { kind: "Group", name: defaultRollbackGroup("orders-api"), apiGroup: "rbac.authorization.k8s.io" },
        ]);
        assert.equal(r.cluster.rollbackerGroup, "orders-api-rollbackers");
        assert.equal(r.cluster.rollbackKubeconfig, undefined);
        assert.ok(
          ![...r.objects.keys()].some(
            (k) => k.includes("rollback-token") || k === "ServiceAccount.orders-dev.orders-api-rollback",
          ),
        );
        const given = await renderCluster(r.config, {
          rollback: { operations: rollbackOperations(r.config), group: "orders-rollback" },
        });
        assert.equal(given.object(binding).subjects[0].name, "orders-rollback");
        assert.equal(given.cluster.rollbackerGroup, "orders-rollback");
      });
    }
  });
}

test("without rollbackOperations there is no rollback identity; one without operations is refused before anything is declared", async () => {
  const r = await renderCluster(stackConfig("token"));
  assert.ok(![...r.objects.keys()].some((k) => k.includes("orders-api-rollback")));
  assert.equal(r.cluster.rollbacker, undefined);
  assert.equal(r.cluster.rollbackKubeconfig, undefined);
  assert.throws(
    () =>
      new ClusterRollbacker("r", {
        appName: "a",
        namespace: "n",
        operations: [],
        subject: { clusterAuth: "eks", group: "g" },
      }),
    /at least one operation/,
  );
});
