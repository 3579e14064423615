// The GHCR image-pull Secret: present only with the ghcrPullToken secret, secret end to end, used
// by both Deployments.
/* eslint-disable @typescript-eslint/no-unsafe-member-access -- rendered objects are untyped YAML. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { dockerConfigJson, ghcrRegistry } from "../../../components/cluster/image-pull-secret";
import { secretPlaceholder } from "../../../synth/artifacts";
import { secretMarker } from "../../../testing/mock-engine";
import { renderCluster, stackConfig } from "../cluster-render";

const deployments = ["Deployment.orders-dev.orders-api", "Deployment.orders-dev.orders-api-canary"];

describe("image-pull Secret", () => {
  test("with the token: a dockerconfigjson Secret whose content is secret, used by both Deployments", async () => {
    const r = await renderCluster(stackConfig("eks"), { ghcrPullToken: "ghp_mockpulltoken" });
    const secret = r.object("Secret.orders-dev.orders-api-ghcr-pull");
    assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
    assert.equal(secret.stringData, secretPlaceholder);
    const [registered] = r.ofType("kubernetes:core/v1:Secret").filter((x) => x.name === "orders-ghcr-pull-secret");
    const stringData = registered.inputs.stringData as Record<string, unknown>;
    assert.ok(secretMarker in stringData, "the content is registered as a secret");
    const inner = (stringData[secretMarker] as Record<string, unknown>)[".dockerconfigjson"];
    const document = typeof inner === "string" ? inner : (inner as Record<string, string>)[secretMarker];
    const config = JSON.parse(document) as {
      auths: Record<string, { username: string; password: string; auth: string }>;
    };
    assert.deepEqual(Object.keys(config.auths), [ghcrRegistry]);
    assert.equal(config.auths[ghcrRegistry].username, "acme");
    assert.equal(Buffer.from(config.auths[ghcrRegistry].auth, "base64").toString(), "acme:ghp_mockpulltoken");
    for (const d of deployments)
      assert.deepEqual(r.object(d).spec.template.spec.imagePullSecrets, [{ name: "orders-api-ghcr-pull" }]);
    for (const [path, content] of r.files) assert.ok(!content.includes("ghp_mockpulltoken"), path);
  });

  test("without the token: no Secret and no imagePullSecrets", async () => {
    const r = await renderCluster(stackConfig("eks", {}, { ghcrPullToken: false }));
    assert.ok(![...r.objects.keys()].some((k) => k.startsWith("Secret.")));
    for (const d of deployments) assert.equal(r.object(d).spec.template.spec.imagePullSecrets, undefined);
  });

  test("the document carries the login and the token in both forms registries read", () => {
    const doc = JSON.parse(dockerConfigJson("ghcr.io", "octocat", "t0ken")) as unknown;
    assert.deepEqual(doc, {
      auths: {
        "ghcr.io": { username: "octocat", password: "t0ken", auth: Buffer.from("octocat:t0ken").toString("base64") },
      },
    });
  });
});
