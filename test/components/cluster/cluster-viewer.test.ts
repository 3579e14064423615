// The preview's read-only identity: a Role that may get exactly the objects the cluster side
// declares, by name (derived from what the components register), list the ReplicaSets a
// Deployment's refresh lists, and read no Secret; bound to a token ServiceAccount (clusterAuth
// token, its kubeconfig a secret output) or to the preview role's group (clusterAuth eks). The
// preview excludes the Secrets it may not read.
/* eslint-disable @typescript-eslint/no-unsafe-member-access -- rendered objects are untyped YAML. */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { parse } from "yaml";
import { defaultPreviewGroup } from "../../../components/cluster/cluster-viewer";
import { type PolicyRule } from "../../../components/shared/cluster-operations";
import { apiResourceOf, refreshOperations, unreadableKinds } from "../../../components/shared/rbac-rules";
import { mockServiceAccountToken } from "../../../testing/mock-engine";
import { renderStack } from "../../../synth/render";
import { readStackFile } from "../../../config/stack-file";
import { urnGlob } from "../../../verify/preview-reads";
import { renderCluster, stackConfig, type ClusterRender } from "../cluster-render";

const role = "Role.orders-dev.orders-api-previewer";
const binding = "RoleBinding.orders-dev.orders-api-previewer";

for (const mode of ["token", "eks"] as const) {
  describe(`preview identity (clusterAuth ${mode})`, () => {
    let r: ClusterRender;
    before(async () => {
      r = await renderCluster(stackConfig(mode), { ghcrPullToken: "ghp_mock", preview: true });
    });
    const rules = () => r.object(role).rules as PolicyRule[];
    const objects = () => r.resources.filter((x) => x.custom && x.type.startsWith("kubernetes:"));

    const clusterRules = () => r.object("ClusterRole.cluster.orders-api.orders-dev.previewer").rules as PolicyRule[];

    test("gets every object the cluster side declares, by name, except the Secrets, and nothing else: the namespaced ones through its Role, the cluster-scoped ones through a ClusterRole", () => {
      const readable = objects().filter((x) => x.type !== "kubernetes:core/v1:Secret");
      assert.ok(readable.length >= 10);
      const gets = [...rules(), ...clusterRules()].filter((rule) => rule.verbs.includes("get"));
      const granted = gets
        .flatMap((rule) => rule.resourceNames!.map((name) => `${rule.apiGroups[0]}/${rule.resources[0]}/${name}`))
        .sort();
      const declared = readable
        .map((x) => {
          const { group, resource } = apiResourceOf(x.type);
          return `${group}/${resource}/${(x.inputs.metadata as { name: string }).name}`;
        })
        .sort();
      assert.deepEqual(granted, declared);
      assert.ok(
        declared.includes("/namespaces/orders-dev"),
        "the Namespace too (a Role in it may get it: the request's namespace is its name)",
      );
      const scoped = (rs: PolicyRule[]) => rs.flatMap((rule) => rule.resourceNames ?? []);
      assert.deepEqual(scoped(clusterRules()).sort(), [
        "orders-api.orders-dev.deployer-pods",
        "orders-api.orders-dev.deployer-pods",
        "orders-api.orders-dev.deployer-releases",
        "orders-api.orders-dev.deployer-releases",
        "orders-api.orders-dev.previewer",
        "orders-api.orders-dev.previewer",
      ]);
      assert.ok(!scoped(rules()).some((name) => name.includes(".")), "no cluster-scoped name in the Role");
    });

    test("the ClusterRole: get only, by name, on exactly the policies, their bindings and itself; bound to the same subject", () => {
      const policies = ["orders-api.orders-dev.deployer-pods", "orders-api.orders-dev.deployer-releases"];
      assert.deepEqual(clusterRules(), [
        {
          apiGroups: ["admissionregistration.k8s.io"],
          resources: ["validatingadmissionpolicies"],
          verbs: ["get"],
          resourceNames: policies,
        },
        {
          apiGroups: ["admissionregistration.k8s.io"],
          resources: ["validatingadmissionpolicybindings"],
          verbs: ["get"],
          resourceNames: policies,
        },
        {
          apiGroups: ["rbac.authorization.k8s.io"],
          resources: ["clusterrolebindings"],
          verbs: ["get"],
          resourceNames: ["orders-api.orders-dev.previewer"],
        },
        {
          apiGroups: ["rbac.authorization.k8s.io"],
          resources: ["clusterroles"],
          verbs: ["get"],
          resourceNames: ["orders-api.orders-dev.previewer"],
        },
      ]);
      const clusterBinding = r.object("ClusterRoleBinding.cluster.orders-api.orders-dev.previewer");
      assert.deepEqual(clusterBinding.roleRef, {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "orders-api.orders-dev.previewer",
      });
      assert.deepEqual(clusterBinding.subjects, r.object(binding).subjects);
    });

    test("its rules are rulesFor(refreshOperations) of those objects: get by name, list of ReplicaSets; read-only, no Secret, no wildcard", () => {
      assert.deepEqual(
        rules().filter((rule) => !rule.resourceNames),
        [{ apiGroups: ["apps"], resources: ["replicasets"], verbs: ["list"] }],
      );
      for (const rule of rules()) {
        assert.ok(
          rule.verbs.every((v) => ["get", "list", "watch"].includes(v)),
          JSON.stringify(rule),
        );
        assert.ok(
          !rule.resources.includes("secrets") &&
            ![...rule.apiGroups, ...rule.resources, ...rule.verbs].some((v) => v.includes("*")),
          JSON.stringify(rule),
        );
      }
      assert.equal(r.object(role).metadata.namespace, "orders-dev");
      assert.deepEqual(r.object(binding).roleRef, {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: "orders-api-previewer",
      });
      assert.equal(
        r.ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").length,
        1,
        "the previewer's, for the cluster-scoped objects only",
      );
    });

    test("the preview's --exclude globs of the unreadable kinds match exactly the stack's Secrets", () => {
      const excluded = (urn: string) => unreadableKinds.some((type) => urnGlob(`**${type}::**`).test(urn));
      const secrets = r.resources.filter((x) => x.type === "kubernetes:core/v1:Secret");
      assert.equal(secrets.length, mode === "token" ? 3 : 1, "pull Secret, and the deployer's and viewer's tokens");
      assert.deepEqual(
        r.resources
          .filter((x) => excluded(x.urn))
          .map((x) => x.urn)
          .sort(),
        secrets.map((x) => x.urn).sort(),
      );
    });

    if (mode === "token") {
      test("binds a ServiceAccount whose token is the preview's kubeconfig, a secret output at clusterEndpoint", () => {
        assert.deepEqual(r.object(binding).subjects, [
          { kind: "ServiceAccount", name: "orders-api-previewer", namespace: "orders-dev" },
        ]);
        assert.equal(
          r.object("Secret.orders-dev.orders-api-previewer-token").metadata.annotations[
            "kubernetes.io/service-account.name"
          ],
          "orders-api-previewer",
        );
        const kubeconfig = parse(r.outputs.previewKubeconfig as string) as {
          clusters: { cluster: { server: string } }[];
          users: { user: { token: string } }[];
        };
        assert.equal(kubeconfig.clusters[0].cluster.server, r.config.clusterEndpoint);
        assert.equal(kubeconfig.users[0].user.token, mockServiceAccountToken);
        assert.equal(r.cluster.previewerGroup, undefined);
      });
    } else {
      test("binds the group the preview role's access entry maps to; no ServiceAccount, no token", () => {
        assert.deepEqual(r.object(binding).subjects, [
          { kind: "Group", name: defaultPreviewGroup("orders-api"), apiGroup: "rbac.authorization.k8s.io" },
        ]);
        assert.equal(r.cluster.previewerGroup, "orders-api-previewers");
        assert.equal(r.cluster.previewKubeconfig, undefined);
        assert.ok(!r.objects.has("ServiceAccount.orders-dev.orders-api-previewer"));
      });
    }
  });
}

test("refreshOperations: one read per kind, by name, Secrets left out", () => {
  const ops = refreshOperations([
    { type: "kubernetes:apps/v1:Deployment", name: "b" },
    { type: "kubernetes:apps/v1:Deployment", name: "a" },
    { type: "kubernetes:networking.k8s.io/v1:NetworkPolicy", name: "n" },
    { type: "kubernetes:core/v1:Secret", name: "s" },
  ]);
  assert.deepEqual(
    ops.map((o) => o.rules),
    [
      [
        { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"], resourceNames: ["a", "b"] },
        { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["list"] },
      ],
      [{ apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["get"], resourceNames: ["n"] }],
    ],
  );
  assert.deepEqual(
    ["Endpoints", "PodDisruptionBudget", "Ingress", "ServiceAccount"].map(
      (kind) => apiResourceOf(`kubernetes:core/v1:${kind}`).resource,
    ),
    ["endpoints", "poddisruptionbudgets", "ingresses", "serviceaccounts"],
  );
});

test("the dev stack (eks, previewed): the preview role's access entry maps it to the previewers group, and it may describe exactly the stack's three entries", async () => {
  const { resources } = await renderStack({ stack: "dev", settings: readStackFile("Pulumi.dev.yaml") });
  const entries = resources.filter((x) => x.type === "aws:eks/accessEntry:AccessEntry");
  assert.deepEqual(entries.map((e) => [e.name, e.inputs.kubernetesGroups, e.inputs.type]).sort(), [
    ["orders-api-roles-deploy-access", ["orders-api-deployers"], "STANDARD"],
    ["orders-api-roles-preview-access", ["orders-api-previewers"], "STANDARD"],
    ["orders-api-roles-rollback-access", ["orders-api-rollbackers"], "STANDARD"],
  ]);
  assert.deepEqual(
    resources.filter((x) => x.type === "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"),
    [],
  );
  const binding = resources.find((x) => x.name === "orders-api-cluster-viewer-role-binding")!;
  assert.deepEqual(
    (binding.inputs.subjects as { name: string }[]).map((s) => s.name),
    ["orders-api-previewers"],
  );
  const policy = resources.find((x) => x.name === "orders-api-roles-preview-policy")!;
  const statements = (JSON.parse(String(policy.inputs.policy)) as { Statement: { Sid: string; Resource: string[] }[] })
    .Statement;
  assert.deepEqual(
    statements.find((s) => s.Sid === "ReadAccessEntries")?.Resource,
    ["orders-api-roles-deploy-access", "orders-api-roles-preview-access", "orders-api-roles-rollback-access"].map(
      (n) => `arn:aws:eks:eu-west-1:123456789012:access-entry/acme-dev/role/123456789012/${n}`,
    ),
  );
});
