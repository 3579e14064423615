// The image repository follows from initialImage: the deploy workflow's IMAGE (what the build
// job pushes and the deploy jobs deploy), the Deployments' image and the deployer's admission
// policy agree on it, also when it is not named after the repository; npm run verify finds a
// workflow whose IMAGE is not the Deployments' repository, or not in ghcr.io.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { readStackFile } from "../../config/stack-file";
import { renderStack } from "../../synth/render";
import { checkImageNames } from "../../verify/names";

const workflow = "repo/.github/workflows/deploy-dev.yml";
let files = new Map<string, string>();
before(async () => {
  const settings = readStackFile("Pulumi.dev.yaml");
  const config = { ...settings.config, "canary-pipeline:initialImage": "ghcr.io/acme/orders-web:2.0.0" };
  files = (await renderStack({ stack: "dev", settings: { ...settings, config } })).files;
});
const withImage = (image: string) => {
  const changed = new Map(files);
  const doc = parse(files.get(workflow)!) as { env: Record<string, string> };
  doc.env.IMAGE = image;
  changed.set(workflow, stringify(doc));
  return changed;
};

describe("the image repository is initialImage's", () => {
  test("the workflow pushes and deploys it, the Deployments run it, the admission policy admits it", () => {
    assert.equal((parse(files.get(workflow)!) as { env: Record<string, string> }).env.IMAGE, "ghcr.io/acme/orders-web");
    for (const name of ["orders-api", "orders-api-canary"])
      assert.match(
        files.get(`kubernetes/Deployment.orders-dev.${name}.yaml`)!,
        /image: ghcr\.io\/acme\/orders-web:2\.0\.0/,
      );
    const releases = files.get(
      "kubernetes/ValidatingAdmissionPolicy.cluster.orders-api.orders-dev.deployer-releases.yaml",
    )!;
    assert.ok(releases.includes("^ghcr\\\\.io/acme/orders-web@sha256:"), releases);
    assert.doesNotMatch(releases, /orders-api@sha256/);
    assert.deepEqual(checkImageNames(files), []);
  });

  test("verify: an IMAGE the Deployments do not run, or outside ghcr.io, is a finding", () => {
    assert.deepEqual(checkImageNames(withImage("ghcr.io/acme/orders-api")), [
      ".github/workflows/deploy-dev.yml: IMAGE ghcr.io/acme/orders-api is the repository of no rendered Deployment's image (ghcr.io/acme/orders-web): the pipeline would release an image the cluster does not run",
    ]);
    assert.deepEqual(checkImageNames(withImage("docker.io/acme/orders-web")), [
      ".github/workflows/deploy-dev.yml: IMAGE docker.io/acme/orders-web is in docker.io, but the build job pushes with the job's GITHUB_TOKEN, which only ghcr.io accepts",
      ".github/workflows/deploy-dev.yml: IMAGE docker.io/acme/orders-web is the repository of no rendered Deployment's image (ghcr.io/acme/orders-web): the pipeline would release an image the cluster does not run",
    ]);
  });
});
