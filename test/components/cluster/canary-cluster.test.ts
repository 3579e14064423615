// The whole cluster side, in both authentication modes: every object is valid against the
// Kubernetes schemas (strictly: no unknown field), named and namespaced explicitly, every pod is
// hardened, and the components follow the project's conventions.

import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { clusterScopedKinds } from "../../../components/shared/rbac-rules";
import { schemaProblems } from "../../../verify/kubernetes-schema";
import {
  podSpecs,
  renderCluster,
  restrictedProblems,
  stackConfig,
  unwrapSecrets,
  type ClusterRender,
} from "../cluster-render";

for (const mode of ["token", "eks"] as const) {
  describe(`cluster side (clusterAuth ${mode})`, () => {
    let r: ClusterRender;
    before(async () => {
      r = await renderCluster(stackConfig(mode), { ghcrPullToken: "ghp_mockpulltoken" });
    });

    test("every rendered object validates strictly against the Kubernetes schemas", async () => {
      const registrations = r.resources.filter((x) => x.custom && x.type.startsWith("kubernetes:"));
      assert.equal(registrations.length, r.objects.size);
      for (const x of registrations) assert.deepEqual(await schemaProblems(unwrapSecrets(x.inputs)), [], x.name);
      // The rendered files are those objects (secrets redacted), so they validate where nothing is redacted.
      for (const [id, o] of r.objects)
        if (!JSON.stringify(o).includes("[secret]")) assert.deepEqual(await schemaProblems(o), [], id);
    });

    test("every object has an explicit name, and a namespace unless it is the Namespace", () => {
      for (const x of r.resources.filter((x) => x.custom && x.type.startsWith("kubernetes:"))) {
        const metadata = x.inputs.metadata as { name?: string; namespace?: string };
        assert.ok(metadata.name && metadata.name !== x.name, `${x.name} is named explicitly`);
        if (x.type === "kubernetes:core/v1:Namespace" || clusterScopedKinds.includes(x.type))
          assert.equal(metadata.namespace, undefined, x.name);
        else assert.equal(metadata.namespace, "orders-dev", x.name);
      }
    });

    test("every pod template meets the restricted profile", () => {
      const specs = [...r.objects.values()].flatMap(podSpecs);
      assert.equal(specs.length, 3);
      // The reaper's pod alone calls the API server: it mounts its own account's token.
      for (const spec of specs)
        assert.deepEqual(
          restrictedProblems(spec, { apiToken: spec.serviceAccountName === "orders-api-canary-reaper" }),
          [],
        );
    });

    test("components use the project's type tokens and name their children after themselves", () => {
      const components = r.resources.filter((x) => !x.custom && x.type !== "pulumi:pulumi:Stack");
      assert.deepEqual(components.map((x) => x.type).sort(), [
        "canary-pipeline:kubernetes:AppNamespace",
        "canary-pipeline:kubernetes:CanaryCluster",
        "canary-pipeline:kubernetes:CanaryReaper",
        "canary-pipeline:kubernetes:CanaryReaperIdentity",
        "canary-pipeline:kubernetes:CanaryWorkload",
        "canary-pipeline:kubernetes:ClusterDeployer",
        "canary-pipeline:kubernetes:DeployerPodPolicy",
        "canary-pipeline:kubernetes:ImagePullSecret",
        "canary-pipeline:kubernetes:PostDeploySmokeTest",
      ]);
      for (const x of r.resources.filter(
        (x) => x.parent && !x.parent.endsWith("pulumi:pulumi:Stack::canary-pipeline-dev"),
      )) {
        const parentName = x.parent!.split("::").pop()!;
        assert.ok(x.name.startsWith(`${parentName}-`), `${x.name} under ${parentName}`);
      }
    });
  });
}
