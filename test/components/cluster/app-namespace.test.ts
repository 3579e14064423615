// The namespace: created and labelled for Pod Security Admission `restricted` when createNamespace,
// left alone otherwise (every object still names it).
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment -- rendered objects are untyped YAML. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { podSecurityLabels } from "../../../components/cluster/app-namespace";
import { clusterScopedKinds } from "../../../components/shared/rbac-rules";
import { renderCluster, stackConfig } from "../cluster-render";

test("the namespace enforces, audits and warns on the restricted profile, with versions", async () => {
  const r = await renderCluster(stackConfig("eks"));
  const labels = r.object("Namespace.cluster.orders-dev").metadata.labels;
  for (const mode of ["enforce", "audit", "warn"]) {
    assert.equal(labels[`pod-security.kubernetes.io/${mode}`], "restricted");
    assert.equal(labels[`pod-security.kubernetes.io/${mode}-version`], "latest");
  }
  assert.deepEqual(Object.keys(podSecurityLabels("v1.33")).length, 6);
  // Everything inside waits for the namespace (the cluster-scoped objects are not inside it).
  const namespace = r.ofType("kubernetes:core/v1:Namespace")[0];
  for (const x of r.resources.filter(
    (x) =>
      x.type.startsWith("kubernetes:") &&
      x.type !== "kubernetes:core/v1:Namespace" &&
      !clusterScopedKinds.includes(x.type),
  )) {
    assert.ok(x.dependencies.includes(namespace.urn), x.name);
  }
});

test("with createNamespace false no Namespace is declared and every object names the configured one", async () => {
  const r = await renderCluster(stackConfig("eks", { createNamespace: false }));
  assert.deepEqual(r.ofType("kubernetes:core/v1:Namespace"), []);
  assert.ok(r.objects.size > 0);
  for (const [id, o] of r.objects) {
    // The deployer's admission policy and its binding are cluster-scoped; they select the namespace by name.
    const expected = clusterScopedKinds.some((type) => type.endsWith(`:${String(o.kind)}`)) ? undefined : "orders-dev";
    assert.equal(o.metadata && (o.metadata as { namespace?: string }).namespace, expected, id);
  }
});
