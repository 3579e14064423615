// The deployer's admission policy: derived from the operations' createsPod, matched on the
// deployer identity only (token: its ServiceAccount's user name; eks: its group), bound to the
// service's namespace, Deny. The CEL itself is evaluated by the real API server in the real tier
// (test/cluster/token-mode.test.ts, eks-mode.test.ts); here its structure.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument -- rendered objects are untyped YAML. */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import {
  createdPods,
  deployerCondition,
  deployerPodPolicyName,
  podValidations,
} from "../../../components/cluster/deployer-pod-policy";
import { clusterOperations, clusterTargets } from "../../../components/shared/cluster-operations";
import { smokeTestImage } from "../../../components/shared/smoke-test";
import { schemaProblems } from "../../../verify/kubernetes-schema";
import { renderCluster, stackConfig, type ClusterRender } from "../cluster-render";

const name = "orders-api.orders-dev.deployer-pods";

for (const mode of ["token", "eks"] as const) {
  describe(`deployer pod policy (clusterAuth ${mode})`, () => {
    let r: ClusterRender;
    before(async () => {
      r = await renderCluster(stackConfig(mode));
    });
    const policy = () => r.object(`ValidatingAdmissionPolicy.cluster.${name}`);
    const binding = () => r.object(`ValidatingAdmissionPolicyBinding.cluster.${name}`);

    test("the pods it admits are exactly those the deployer's operations create, each with its pinned image", () => {
      const expected = createdPods(
        r.operations.concat(
          mode === "token"
            ? [
                clusterOperations.createPod(clusterTargets(r.config), {
                  name: "orders-api-smoke-test-up",
                  image: smokeTestImage,
                }),
              ]
            : [],
        ),
      );
      assert.deepEqual(
        JSON.parse(policy().spec.variables[0].expression),
        Object.fromEntries(expected.map((p) => [p.name, p.image])),
      );
      assert.ok(Object.keys(JSON.parse(policy().spec.variables[0].expression)).includes("orders-api-smoke-test"));
    });

    test("a second policy admits the deployer's Deployment updates that change images only, to the service's image by digest or initialImage", async () => {
      const releases = "orders-api.orders-dev.deployer-releases";
      const policy = r.object(`ValidatingAdmissionPolicy.cluster.${releases}`);
      assert.deepEqual(policy.spec.matchConstraints, {
        resourceRules: [
          { apiGroups: ["apps"], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["deployments"] },
        ],
      });
      assert.equal(policy.spec.failurePolicy, "Fail");
      assert.equal(
        policy.spec.matchConditions[0].expression,
        mode === "token"
          ? 'request.userInfo.username == "system:serviceaccount:orders-dev:orders-api-deployer"'
          : 'has(request.userInfo.groups) && "orders-api-deployers" in request.userInfo.groups',
      );
      const expressions = (policy.spec.validations as { expression: string }[]).map((v) => v.expression).join("\n");
      for (const field of [
        "volumes",
        "initContainers",
        "serviceAccountName",
        "automountServiceAccountToken",
        "env",
        "envFrom",
        "volumeMounts",
      ])
        assert.match(expressions, new RegExp(`\\.${field}\\b`), field);
      assert.ok(
        expressions.includes('c.image.matches("^ghcr\\\\.io/acme/orders-api@sha256:[0-9a-f]{64}$")'),
        expressions,
      );
      assert.ok(expressions.includes('c.image == "ghcr.io/acme/orders-api:1.4.2"'));
      assert.equal(r.object(`ValidatingAdmissionPolicyBinding.cluster.${releases}`).spec.validationActions[0], "Deny");
      assert.deepEqual(await schemaProblems(policy), []);
    });

    test("matches pod creation by the deployer only, fails closed, and binds Deny to the service's namespace", () => {
      assert.deepEqual(policy().spec.matchConstraints, {
        resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
      });
      assert.equal(policy().spec.failurePolicy, "Fail");
      assert.deepEqual(policy().spec.matchConditions, [
        {
          name: "created-by-the-deployer",
          expression:
            mode === "token"
              ? 'request.userInfo.username == "system:serviceaccount:orders-dev:orders-api-deployer"'
              : 'has(request.userInfo.groups) && "orders-api-deployers" in request.userInfo.groups',
        },
      ]);
      assert.deepEqual(binding().spec, {
        policyName: name,
        validationActions: ["Deny"],
        matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "orders-dev" } } },
      });
      assert.equal(policy().metadata.namespace, undefined);
    });

    test("each validation refuses with a message that says what and why; both objects are valid v1 objects", async () => {
      const validations = policy().spec.validations as { expression: string; message: string; reason: string }[];
      assert.deepEqual(
        validations.map((v) => v.message),
        podValidations(r.cluster.deployerPodPolicy.pods).map((v) => v.message),
      );
      for (const v of validations) assert.equal(v.reason, "Forbidden");
      for (const field of [
        "volumes",
        "automountServiceAccountToken",
        "env",
        "envFrom",
        "hostNetwork",
        "restartPolicy",
        "activeDeadlineSeconds",
        "runAsNonRoot",
        "readOnlyRootFilesystem",
        "RuntimeDefault",
        '"ALL"',
        "initContainers",
        "ephemeralContainers",
      ]) {
        assert.ok(
          validations.some((v) => v.expression.includes(field)),
          field,
        );
      }
      assert.deepEqual(await schemaProblems(policy()), []);
      assert.deepEqual(await schemaProblems(binding()), []);
    });
  });
}

test("names are DNS subdomains unique per service and namespace; the conditions quote their subjects", () => {
  assert.equal(deployerPodPolicyName("orders-api", "orders-dev"), name);
  assert.notEqual(deployerPodPolicyName("a", "b-c"), deployerPodPolicyName("a-b", "c"));
  assert.match(deployerPodPolicyName("a".repeat(40), "b".repeat(63)), /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/);
  assert.equal(deployerCondition({ group: "g" }), 'has(request.userInfo.groups) && "g" in request.userInfo.groups');
});

test("createdPods: one entry per name; one name with two images is refused; no createPod, no pod admitted", () => {
  const t = clusterTargets({ appName: "a", namespace: "n" });
  const pod = (image: string) => clusterOperations.createPod(t, { name: "a-smoke-test", image });
  assert.deepEqual(createdPods([pod("x:1"), pod("x:1"), clusterOperations.scale(t, "a-canary", 0)]), [
    { name: "a-smoke-test", image: "x:1" },
  ]);
  assert.throws(() => createdPods([pod("x:1"), pod("y:1")]), /the pod a-smoke-test with two images: x:1 and y:1/);
  assert.deepEqual(createdPods([clusterOperations.scale(t, "a-canary", 0)]), []);
  assert.match(podValidations([])[0].message, /pipeline's own pods \(none\)/);
});
