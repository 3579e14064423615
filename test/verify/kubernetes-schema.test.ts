// The strict schema check: good objects pass, and an unknown field anywhere outside a free-form
// map is caught, as are the violations the OpenAPI validators report themselves.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { clusterTargets } from "../../components/shared/cluster-operations";
import { smokeTestPod } from "../../components/shared/smoke-test";
import { assertValidObject, schemaProblems } from "../../verify/kubernetes-schema";

const deployment = () => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "orders-api",
    namespace: "orders",
    labels: { app: "orders-api", "example.com/any-key": "x" },
    annotations: { note: "free text" },
  },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: "orders-api", track: "stable" } },
    template: {
      metadata: { labels: { app: "orders-api", track: "stable" } },
      spec: {
        nodeSelector: { "kubernetes.io/os": "linux" },
        containers: [
          {
            name: "orders-api",
            image: "ghcr.io/acme/orders-api:1.4.2",
            resources: { requests: { cpu: "100m", "example.com/gpu": "1" }, limits: { memory: "256Mi" } },
          },
        ],
      },
    },
  },
});

describe("strict Kubernetes schema check", () => {
  test("a good Deployment passes, free-form maps included", async () => {
    assert.deepEqual(await schemaProblems(deployment()), []);
  });

  test("spec.replica: 3 is caught as an unknown field", async () => {
    const d = deployment();
    Object.assign(d.spec, { replica: 3 });
    assert.deepEqual(await schemaProblems(d), ["unknown field spec.replica"]);
    await assert.rejects(assertValidObject(d, "Deployment"), /unknown field spec\.replica/);
  });

  test("unknown fields deep inside typed objects and lists are caught", async () => {
    const d = deployment();
    Object.assign(d.metadata, { nam: "x" });
    Object.assign(d.spec.selector, { matchLabel: { app: "x" } });
    Object.assign(d.spec.template.spec.containers[0], { imagePullPolicyy: "Always" });
    assert.deepEqual((await schemaProblems(d)).sort(), [
      "unknown field metadata.nam",
      "unknown field spec.selector.matchLabel",
      "unknown field spec.template.spec.containers[0].imagePullPolicyy",
    ]);
  });

  test("the validators' own findings are reported: types, required fields, enums", async () => {
    const wrongType = deployment();
    Object.assign(wrongType.spec, { replicas: "three" });
    assert.match((await schemaProblems(wrongType)).join("\n"), /replicas must be integer/);
    const noSelector: Record<string, unknown> = deployment();
    delete (noSelector.spec as Record<string, unknown>).selector;
    assert.match((await schemaProblems(noSelector)).join("\n"), /selector/);
    assert.match(
      (
        await schemaProblems({
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "s" },
          spec: { ports: [{ port: 80, protocol: "SCTPX" }] },
        })
      ).join("\n"),
      /protocol/,
    );
  });

  test("Services (a plain selector map), Secrets and RBAC objects pass", async () => {
    for (const o of [
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "s" },
        spec: { selector: { app: "a", track: "canary" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
      },
      { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, type: "Opaque", stringData: { "any.key": "v" } },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "r" },
        rules: [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] }],
      },
    ])
      assert.deepEqual(await schemaProblems(o), [], o.kind);
  });

  test("an object without a known schema is refused", async () => {
    assert.deepEqual(await schemaProblems({ apiVersion: "example.com/v1", kind: "Widget" }), [
      "no schema for example.com/v1 Widget",
    ]);
    assert.deepEqual(await schemaProblems({ apiVersion: "apps/v1", kind: "Deploymnt" }), [
      "no schema for apps/v1 Deploymnt",
    ]);
  });

  test("the smoke-test pod passes", async () => {
    const targets = clusterTargets({ appName: "orders-api", namespace: "orders" });
    await assertValidObject(
      smokeTestPod({
        targets,
        podName: targets.smokeTestPod,
        appName: "orders-api",
        paths: ["/healthz"],
        maxLatencySeconds: 1,
      }),
      "smoke-test pod",
    );
  });
});
