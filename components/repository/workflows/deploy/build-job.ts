// The first environment's build: build and push by commit SHA, then (signImages) the SBOM, the
// keyless signature and the SBOM's attestation.
import { actions, uses } from "../actions";
import { expression, needs, StepId } from "../links";
import type { Job, Step } from "../model";
import { runner } from "../names";
import { bash, checkout, ghcrLogin } from "../steps";
import { deployEnv, deployJobs, type DeployPlan } from "./plan";
import { installCosign } from "./provenance";

/**
 * The condition of the jobs that test and build the branch: a push, or a run by hand without a
 * digest (one with a digest is a rollback, which releases what the environment released before).
 */
export const releasesTheBranch = "github.event_name == 'push' || inputs.digest == ''";

/** The gha cache scope of the publishing build: only this job, on the deploy branch, writes it. */
export const publishCacheScope = (environment: string) => `publish-${environment}`;

const { image, digest } = deployEnv;
const metaStep = new StepId("meta");
const buildStep = new StepId("build");
/** The pushed image's digest, as docker/build-push-action reports it: the job's output. */
const builtDigest = buildStep.output("digest");
/** What the jobs after the build read of it: the digest it pushed. */
export const builtImageDigest = expression(deployJobs.build.output(builtDigest.name));
/** The digest's environment variable in the steps after the build. */
const digestEnv = { [digest.name]: expression(builtDigest.expression) };

/** The SBOM, the signature and its attestation (keyless: the job's OIDC identity). */
function signSteps(): Step[] {
  return [
    {
      name: "Generate the SBOM",
      uses: uses(actions.sbom),
      with: {
        image: `${expression(image.expression)}@${expression(builtDigest.expression)}`,
        format: "spdx-json",
        "output-file": "sbom.spdx.json",
        "upload-release-assets": false,
        "registry-username": "${{ github.actor }}",
        "registry-password": "${{ secrets.GITHUB_TOKEN }}",
      },
    },
    installCosign(),
    bash(
      "Sign the image and attest its SBOM (keyless)",
      [
        `cosign sign --yes "${image.braced}@${digest.braced}"`,
        `cosign attest --yes --type spdxjson --predicate sbom.spdx.json "${image.braced}@${digest.braced}"`,
      ].join("\n"),
      { env: digestEnv },
    ),
  ];
}

/**
 * Build and push by commit SHA. It publishes, so it must not restore a cache an untrusted pull
 * request could have written (zizmor's cache-poisoning audit): its gha cache scope is its own,
 * written only here, and the job runs only on the deploy branch (GitHub also keeps a PR's caches
 * to the PR's ref).
 */
export function buildJob({ config }: DeployPlan): Job {
  const scope = publishCacheScope(config.environment);
  return {
    name: "Build and push",
    "runs-on": runner,
    needs: needs(deployJobs.test),
    // A manual run on another branch must not publish an image; a rollback builds nothing.
    if: `github.ref == 'refs/heads/${config.deployBranch}' && (${releasesTheBranch})`,
    permissions: {
      contents: "read",
      packages: "write",
      ...(config.signImages ? { "id-token": "write" as const } : {}),
    },
    "timeout-minutes": 30,
    outputs: { [builtDigest.name]: expression(builtDigest.expression) },
    steps: [
      checkout(),
      { name: "Set up Buildx", uses: uses(actions.setupBuildx) },
      ghcrLogin(),
      {
        name: "Image tags",
        id: metaStep.id,
        uses: uses(actions.dockerMetadata),
        with: { images: expression(image.expression), tags: "type=sha,format=long" },
      },
      {
        name: "Build and push",
        id: buildStep.id,
        uses: uses(actions.buildPush),
        with: {
          context: ".",
          push: true,
          tags: expression(metaStep.output("tags").expression),
          labels: expression(metaStep.output("labels").expression),
          "cache-from": `type=gha,scope=${scope}`,
          "cache-to": `type=gha,mode=max,scope=${scope}`,
        },
      },
      ...(config.signImages ? signSteps() : []),
      bash(
        "Report the image",
        [
          "{",
          '  echo "### Image"',
          `  echo "- digest: \\\`${digest.braced}\\\`"`,
          `  echo "- \\\`${image.braced}@${digest.braced}\\\` (tag sha-\${GITHUB_SHA})"`,
          '} >> "$GITHUB_STEP_SUMMARY"',
        ].join("\n"),
        { env: digestEnv },
      ),
    ],
  };
}
