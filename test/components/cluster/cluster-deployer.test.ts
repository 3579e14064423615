// The deployer identity: a Role with exactly the rules the pipeline's operations need, bound to a
// ServiceAccount with a kubeconfig (clusterAuth token) or to the EKS access entry's group.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment --
   rendered objects are untyped YAML. */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ClusterDeployer, defaultEksGroup } from "../../../components/cluster/cluster-deployer";
import { deployerOperations } from "../../../components/cluster/canary-cluster";
import {
  clusterOperations,
  clusterTargets,
  type ClusterOperation,
  type PolicyRule,
} from "../../../components/shared/cluster-operations";
import { rulesFor } from "../../../components/shared/rbac-rules";
import { caData, renderCluster, stackConfig, type ClusterRender } from "../cluster-render";

const role = "Role.orders-dev.orders-api-deployer";
const binding = "RoleBinding.orders-dev.orders-api-deployer";

/** The Role's rules must be exactly what the operations need: no more, no less. */
/** The Role against the pipeline's operations (with, in token mode, the smoke test of `pulumi up`). */
function assertExactRules(render: ClusterRender, operations: readonly ClusterOperation[]) {
  assert.deepEqual(render.object(role).rules, rulesFor(deployerOperations(render.config, operations)));
}

for (const mode of ["token", "eks"] as const) {
  describe(`deployer Role (clusterAuth ${mode})`, () => {
    let r: ClusterRender;
    before(async () => {
      r = await renderCluster(stackConfig(mode));
    });

    test("its rules are exactly rulesFor(operations), and the check fails on one rule more or less", () => {
      assertExactRules(r, r.operations);
      // In token mode `pulumi up`'s smoke test runs as the deployer, with a pod of its own name.
      const podNames = (r.object(role).rules as PolicyRule[])
        .filter((rule) => rule.resources.includes("pods") && rule.verbs.includes("delete"))
        .flatMap((rule) => rule.resourceNames ?? [])
        .sort();
      assert.deepEqual(
        podNames,
        mode === "token" ? ["orders-api-smoke-test", "orders-api-smoke-test-up"] : ["orders-api-smoke-test"],
      );
      const t = clusterTargets(r.config);
      assert.throws(() => assertExactRules(r, [...r.operations, clusterOperations.scale(t, t.stableDeployment, 9)]));
      assert.throws(() =>
        assertExactRules(
          r,
          r.operations.filter((o) => o.description !== clusterOperations.canaryPodImages(t).description),
        ),
      );
    });

    test("grants no wildcard, no Secret, no exec or attach, no Deployment create or delete", () => {
      const rules = r.object(role).rules as {
        apiGroups: string[];
        resources: string[];
        verbs: string[];
        resourceNames?: string[];
      }[];
      assert.ok(rules.length > 0);
      for (const rule of rules) {
        for (const field of [rule.apiGroups, rule.resources, rule.verbs, rule.resourceNames ?? []])
          assert.ok(!field.some((v) => v.includes("*")), JSON.stringify(rule));
        assert.ok(
          !rule.resources.some((res) =>
            [
              "secrets",
              "pods/exec",
              "pods/attach",
              "pods/portforward",
              "serviceaccounts/token",
              "roles",
              "rolebindings",
            ].includes(res),
          ),
          JSON.stringify(rule),
        );
        assert.ok(
          !rule.verbs.some((v) => ["escalate", "bind", "impersonate", "deletecollection"].includes(v)),
          JSON.stringify(rule),
        );
        if (rule.resources.includes("deployments"))
          assert.ok(!rule.verbs.includes("create") && !rule.verbs.includes("delete"), JSON.stringify(rule));
      }
    });

    test("is namespaced: no cluster-scoped RBAC object", () => {
      assert.equal(r.object(role).metadata.namespace, "orders-dev");
      assert.equal(r.object(binding).metadata.namespace, "orders-dev");
      assert.deepEqual(r.ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"), []);
      assert.deepEqual(r.ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"), []);
      assert.deepEqual(r.object(binding).roleRef, {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: "orders-api-deployer",
      });
    });
  });
}

describe("clusterAuth token", () => {
  let r: ClusterRender;
  before(async () => {
    r = await renderCluster(stackConfig("token"));
  });

  test("binds a ServiceAccount with a long-lived token Secret", () => {
    assert.deepEqual(r.object(binding).subjects, [
      { kind: "ServiceAccount", name: "orders-api-deployer", namespace: "orders-dev" },
    ]);
    assert.equal(r.object("ServiceAccount.orders-dev.orders-api-deployer").automountServiceAccountToken, false);
    const secret = r.object("Secret.orders-dev.orders-api-deployer-token");
    assert.equal(secret.type, "kubernetes.io/service-account-token");
    assert.equal(secret.metadata.annotations["kubernetes.io/service-account.name"], "orders-api-deployer");
    // The account must exist before its token Secret (pulumi-kubernetes#4396).
    const [account] = r
      .ofType("kubernetes:core/v1:ServiceAccount")
      .filter((x) => x.name === "orders-deployer-service-account");
    const [token] = r.ofType("kubernetes:core/v1:Secret").filter((x) => x.name === "orders-deployer-token");
    assert.ok(token.dependencies.includes(account.urn));
  });

  test("outputs a kubeconfig built from the endpoint, the CA and the token, secret end to end", async () => {
    assert.equal(await pulumi.isSecret(r.cluster.kubeconfig!), true);
    assert.equal(await pulumi.isSecret(r.cluster.deployer.kubeconfig!), true);
    const kubeconfig = parse(r.outputs.kubeconfig as string);
    assert.equal(kubeconfig.clusters[0].cluster.server, "https://api.k8s.example.com:6443");
    assert.equal(kubeconfig.clusters[0].cluster["certificate-authority-data"], caData);
    assert.equal(kubeconfig.users[0].user.token, "mock-service-account-token");
    assert.equal(kubeconfig.contexts[0].context.namespace, "orders-dev");
    assert.equal(kubeconfig["current-context"], kubeconfig.contexts[0].name);
    assert.equal(r.cluster.deployerGroup, undefined);
  });

  test("no rendered file carries the token", () => {
    for (const [path, content] of r.files) assert.ok(!content.includes("mock-service-account-token"), path);
  });
});

describe("clusterAuth eks", () => {
  test("binds the access entry's group, default `${appName}-deployers`, and creates no credentials", async () => {
    const r = await renderCluster(stackConfig("eks"));
    assert.deepEqual(r.object(binding).subjects, [
      { kind: "Group", name: "orders-api-deployers", apiGroup: "rbac.authorization.k8s.io" },
    ]);
    assert.equal(r.cluster.deployerGroup, defaultEksGroup("orders-api"));
    assert.equal(r.outputs.deployerGroup, "orders-api-deployers");
    assert.equal(r.cluster.kubeconfig, undefined);
    assert.ok(
      ![...r.objects.keys()].some(
        (k) => k.includes("deployer-token") || k === "ServiceAccount.orders-dev.orders-api-deployer",
      ),
    );
  });

  test("binds the group it is given", async () => {
    const r = await renderCluster(stackConfig("eks"), { eksGroup: "orders-release" });
    assert.equal(r.object(binding).subjects[0].name, "orders-release");
    assert.equal(r.cluster.deployerGroup, "orders-release");
  });
});

test("a deployer without operations is refused before anything is declared", () => {
  assert.throws(
    () => new ClusterDeployer("d", { appName: "a", namespace: "n", operations: [], clusterAuth: "eks" }),
    /at least one operation/,
  );
});
