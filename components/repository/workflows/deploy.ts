// The deploy workflow of one environment, `deploy-<environment>.yml`, owned by that environment's
// stack. The first environment (no promoteFrom) tests, builds, signs and scans the image on each
// push to the deploy branch; a later environment promotes a digest that environment already
// shipped, by hand, never rebuilding. Both deploy by digest to the canary, smoke-test it through
// the Services, then move the stable Deployment to the same digest.
// Every kubectl command comes from the operation catalogue (components/shared/cluster-operations.ts), and
// deployOperations lists exactly those the workflow runs: the deployer Role is derived from it.
import type { StackConfig } from "../../../config/schema";
import { canarySplit } from "../../shared/canary-split";
import { clusterOperations, clusterTargets, type ClusterOperation } from "../../shared/cluster-operations";
import { smokeTestOperations, smokeTestRunner, type SmokeTestSpec } from "../../shared/smoke-test";
import { githubOidc } from "../../shared/oidc-subjects";
import { actions, uses } from "./actions";
import type { Job, Permissions, Step, WorkflowFile } from "./model";
import {
  awsRegionVariable, deployRoleVariable, deployWorkflowPath, eksClusterVariable, imageName, kubeconfigSecret, runner,
  slackWebhookSecret,
} from "./names";
import { bash, checkout, ghcrLogin, setupNode } from "./steps";

/** The settings the deploy workflow reads. */
export type DeployConfig = Pick<StackConfig,
  | "githubOwner" | "githubRepository" | "deployBranch" | "environment" | "promoteFrom" | "clusterAuth" | "namespace"
  | "appName" | "replicas" | "canaryWeight" | "nodeVersions" | "smokePaths" | "smokeRequests" | "smokeMaxLatencySeconds" | "scanSeverity"
  | "signImages" | "secrets">;

/**
 * kubectl on the runner, pinned (within one minor version of the cluster: Kubernetes' skew policy):
 * the version the real tier runs the jobs' scripts with (tools/kubernetes), held equal by a test.
 */
export const kubectlVersion = "v1.36.3";
/** How long a rollout may take before the job fails. */
export const rolloutTimeout = "300s";
/** The manifest file the smoke-test runner writes (a shell expression it defines). */
const smokeManifest = '"$manifest"';
/** The image reference the deploy steps use, as the shell sees it (both validated first). */
const imageRef = '"${IMAGE}@${DIGEST}"';
/** The gha cache scope of the publishing build: only this job, on the deploy branch, writes it. */
export const publishCacheScope = (environment: string) => `publish-${environment}`;

const targetsOf = (config: DeployConfig) => clusterTargets(config);

/** The smoke test's settings, from the stack's. */
export function smokeTestSpec(config: DeployConfig): SmokeTestSpec {
  const targets = targetsOf(config);
  return {
    targets, podName: targets.smokeTestPod, appName: config.appName, paths: config.smokePaths, maxLatencySeconds: config.smokeMaxLatencySeconds,
    requestsPerPath: config.smokeRequests,
  };
}

/** The cluster operations of the workflow, by the step that runs them. */
function operations(config: DeployConfig) {
  const t = targetsOf(config);
  const canaryReplicas = canarySplit(config.replicas, config.canaryWeight).canaryReplicas;
  return {
    canaryImage: clusterOperations.setImage(t, t.canaryDeployment, imageRef),
    canaryUp: clusterOperations.scale(t, t.canaryDeployment, canaryReplicas),
    canaryRollout: clusterOperations.rolloutStatus(t, t.canaryDeployment, rolloutTimeout),
    canaryPods: clusterOperations.canaryPodImages(t),
    smokeTest: smokeTestOperations(smokeTestSpec(config), smokeManifest),
    canaryDown: clusterOperations.scale(t, t.canaryDeployment, 0),
    stableImage: clusterOperations.setImage(t, t.stableDeployment, imageRef),
    stableRollout: clusterOperations.rolloutStatus(t, t.stableDeployment, rolloutTimeout),
  };
}

/** Exactly the cluster operations the generated workflows run (each once), in order of first use. */
export function deployOperations(config: DeployConfig): ClusterOperation[] {
  const o = operations(config);
  const all = [o.canaryImage, o.canaryUp, o.canaryRollout, o.canaryPods, ...o.smokeTest, o.canaryDown, o.stableImage, o.stableRollout];
  return all.filter((op, i) => all.findIndex((other) => other.command === op.command) === i);
}

/** The job that assumes a role or signs gets id-token: write; nothing else does. */
const deployPermissions = (config: DeployConfig): Permissions => ({
  ...(config.clusterAuth === "eks" ? { "id-token": "write" as const } : {}),
  // GHCR packages are private by default: cosign reads the signature stored beside the image.
  ...(config.signImages ? { packages: "read" as const } : {}),
});

/** Cluster credentials: the deploy role through OIDC (eks), or the environment's kubeconfig (token). */
function clusterCredentials(config: DeployConfig): Step[] {
  const install: Step = { name: "Install kubectl", uses: uses(actions.setupKubectl), with: { version: kubectlVersion } };
  if (config.clusterAuth === "eks") {
    return [
      install,
      {
        name: "Assume the deploy role",
        uses: uses(actions.awsCredentials),
        with: { "role-to-assume": `\${{ vars.${deployRoleVariable} }}`, "aws-region": `\${{ vars.${awsRegionVariable} }}` },
      },
      bash("Write the kubeconfig", [
        'kubeconfig="$RUNNER_TEMP/kubeconfig"',
        'aws eks update-kubeconfig --name "$CLUSTER" --region "$REGION" --kubeconfig "$kubeconfig"',
        'echo "KUBECONFIG=$kubeconfig" >> "$GITHUB_ENV"',
      ].join("\n"), { env: { CLUSTER: `\${{ vars.${eksClusterVariable} }}`, REGION: `\${{ vars.${awsRegionVariable} }}` } }),
    ];
  }
  return [
    install,
    // Written with umask 077 so that no other user of the runner can read it.
    bash("Write the kubeconfig", [
      "umask 077",
      'kubeconfig="$RUNNER_TEMP/kubeconfig"',
      'printf \'%s\\n\' "$KUBECONFIG_DATA" > "$kubeconfig"',
      'chmod 600 "$kubeconfig"',
      'echo "KUBECONFIG=$kubeconfig" >> "$GITHUB_ENV"',
    ].join("\n"), { env: { KUBECONFIG_DATA: `\${{ secrets.${kubeconfigSecret} }}` } }),
  ];
}

const removeKubeconfig = (config: DeployConfig): Step[] => (config.clusterAuth === "token"
  ? [bash("Remove the kubeconfig", 'rm -f "$RUNNER_TEMP/kubeconfig"', { if: "always()" })]
  : []);

/** The digest is checked before any step uses it; it reaches scripts only through env (never interpolated). */
const checkDigest = (): Step => bash("Check the digest", [
  'if [[ ! "$DIGEST" =~ ^sha256:[0-9a-f]{64}$ ]]; then',
  '  echo "::error::the digest must be sha256: followed by 64 lower-case hex digits"',
  "  exit 1",
  "fi",
].join("\n"));

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Cosign verification: the signature must come from a keyless signing by this repository's
 * deploy workflow on the deploy branch. The first environment pins its own workflow file; a later
 * one cannot know which environment built (a chain may be longer than two), so it accepts any
 * deploy-*.yml of this repository on the deploy branch: only the first environment's signs.
 */
function verifySignature(config: DeployConfig): Step[] {
  const repository = `https://github.com/${config.githubOwner}/${config.githubRepository}/`;
  const ref = `@refs/heads/${config.deployBranch}`;
  const identity = config.promoteFrom === undefined
    ? `--certificate-identity '${repository}${deployWorkflowPath(config.environment)}${ref}'`
    : `--certificate-identity-regexp '^${escapeRegex(`${repository}.github/workflows/deploy-`)}[A-Za-z0-9._-]+\\.yml${escapeRegex(ref)}$'`;
  return [
    { name: "Install cosign", uses: uses(actions.cosignInstaller) },
    ghcrLogin(),
    bash("Verify the image signature", [
      `cosign verify ${imageRef} \\`,
      `  --certificate-oidc-issuer ${githubOidc.url} \\`,
      `  ${identity} > /dev/null`,
      'echo "- signature verified (keyless, this repository\'s deploy workflow)" >> "$GITHUB_STEP_SUMMARY"',
    ].join("\n")),
  ];
}

/**
 * A run that is cancelled (by hand, or by a job exceeding its `timeout-minutes`) re-evaluates the
 * remaining steps' conditions with `failure()` false: cleanup must also ask for `cancelled()`
 * (GitHub docs, "Status check functions").
 */
const failedOrCancelled = "(failure() || cancelled())";

/** The canary job: deploy by digest, check the pods, smoke-test; on failure or cancellation scale the canary back to 0. */
function canaryJob(config: DeployConfig, needs: string[], digest: string): Job {
  const o = operations(config);
  const split = canarySplit(config.replicas, config.canaryWeight);
  const t = targetsOf(config);
  const slack: Step[] = config.secrets.slackWebhook ? [{
    name: "Notify Slack of the rollback",
    if: failedOrCancelled,
    uses: uses(actions.slack),
    with: {
      webhook: `\${{ secrets.${slackWebhookSecret} }}`,
      "webhook-type": "incoming-webhook",
      payload: [
        `text: ":rotating_light: ${config.appName}: the canary in ${config.environment} failed; a deployed canary was scaled back to 0 and stable is unchanged."`,
        "blocks:",
        "  - type: section",
        "    text:",
        "      type: mrkdwn",
        `      text: ":rotating_light: *${config.appName}* canary failed in *${config.environment}*; stable is unchanged (\${{ env.DIGEST }}). <\${{ github.server_url }}/\${{ github.repository }}/actions/runs/\${{ github.run_id }}|Run \${{ github.run_id }}>"`,
      ].join("\n"),
    },
  }] : [];
  return {
    name: `Canary (${config.environment})`,
    "runs-on": runner,
    ...(needs.length > 0 ? { needs } : {}),
    environment: { name: config.environment },
    permissions: deployPermissions(config),
    "timeout-minutes": 30,
    env: { DIGEST: digest },
    steps: [
      checkDigest(),
      ...(config.signImages ? verifySignature(config) : []),
      ...clusterCredentials(config),
      bash("Deploy the digest to the canary", [o.canaryImage.command, o.canaryUp.command, o.canaryRollout.command].join("\n"), { id: "deploy" }),
      bash("Check that the canary pods run the digest", [
        // Pods of the replaced ReplicaSet may still be terminating right after the rollout.
        "for _ in $(seq 12); do",
        `  images="$(${o.canaryPods.command})"`,
        '  if [ -n "$images" ] && ! grep -qv -- "@${DIGEST}\\$" <<< "$images"; then',
        '    echo "$images"',
        "    exit 0",
        "  fi",
        "  sleep 5",
        "done",
        'echo "::error::the canary pods do not all run ${DIGEST}:"',
        'echo "$images"',
        "exit 1",
      ].join("\n")),
      bash("Smoke test", smokeTestRunner(smokeTestSpec(config)), { "timeout-minutes": 5 }),
      bash("Report the canary", [
        "{",
        `  echo "### Canary in ${config.environment}"`,
        '  echo "- image: \\`${IMAGE}@${DIGEST}\\`"',
        `  echo "- ${split.canaryReplicas} canary pod(s) beside ${config.replicas} stable: ${split.actualWeight.toFixed(1)}% of traffic"`,
        '  echo "- smoke test passed"',
        '} >> "$GITHUB_STEP_SUMMARY"',
      ].join("\n")),
      bash("Roll the canary back", [
        o.canaryDown.command,
        "{",
        `  echo "### Rolled back in ${config.environment}"`,
        `  echo "- canary deployment/${t.canaryDeployment} scaled to 0; stable keeps its image"`,
        '  echo "- rejected image: \\`${IMAGE}@${DIGEST}\\`"',
        '} >> "$GITHUB_STEP_SUMMARY"',
      // On failure, and on cancellation (by hand or a job's timeout-minutes: failure() is false
      // then), but only once the canary was touched: a failure before (bad digest, bad
      // signature) left it as it was.
      ].join("\n"), { if: `${failedOrCancelled} && steps.deploy.outcome != 'skipped'` }),
      ...slack,
      ...removeKubeconfig(config),
    ],
  };
}

/** The promote job: the stable Deployment to the canary's digest, then the canary back to 0. */
function promoteJob(config: DeployConfig, needs: string[]): Job {
  const o = operations(config);
  const t = targetsOf(config);
  return {
    name: `Promote (${config.environment})`,
    "runs-on": runner,
    needs,
    environment: { name: config.environment },
    permissions: config.clusterAuth === "eks" ? { "id-token": "write" } : {},
    "timeout-minutes": 20,
    env: { DIGEST: "${{ needs.canary.outputs.digest }}" },
    steps: [
      checkDigest(),
      ...clusterCredentials(config),
      bash("Promote the digest to stable", [o.stableImage.command, o.stableRollout.command].join("\n")),
      bash("Retire the canary", o.canaryDown.command),
      bash("Report the promotion", [
        "{",
        `  echo "### Promoted in ${config.environment}"`,
        `  echo "- deployment/${t.stableDeployment} now runs \\\`\${IMAGE}@\${DIGEST}\\\`"`,
        `  echo "- canary deployment/${t.canaryDeployment} scaled to 0"`,
        '} >> "$GITHUB_STEP_SUMMARY"',
      ].join("\n")),
      ...removeKubeconfig(config),
    ],
  };
}

/** The first environment's test matrix. */
function testJob(config: DeployConfig): Job {
  return {
    name: "Test (Node.js ${{ matrix.node }})",
    "runs-on": runner,
    permissions: { contents: "read" },
    "timeout-minutes": 15,
    strategy: { "fail-fast": true, matrix: { node: config.nodeVersions } },
    steps: [checkout(), setupNode("${{ matrix.node }}"), bash("Install", "npm ci"), bash("Test", "npm test")],
  };
}

/**
 * Build and push by commit SHA. It publishes, so it must not restore a cache an untrusted pull
 * request could have written (zizmor's cache-poisoning audit): its gha cache scope is its own,
 * written only here, and the job runs only on the deploy branch (GitHub also keeps a PR's caches
 * to the PR's ref).
 */
function buildJob(config: DeployConfig): Job {
  const scope = publishCacheScope(config.environment);
  const sign: Step[] = config.signImages ? [
    {
      name: "Generate the SBOM",
      uses: uses(actions.sbom),
      with: {
        image: "${{ env.IMAGE }}@${{ steps.build.outputs.digest }}",
        format: "spdx-json",
        "output-file": "sbom.spdx.json",
        "upload-release-assets": false,
        "registry-username": "${{ github.actor }}",
        "registry-password": "${{ secrets.GITHUB_TOKEN }}",
      },
    },
    { name: "Install cosign", uses: uses(actions.cosignInstaller) },
    bash("Sign the image and attest its SBOM (keyless)", [
      'cosign sign --yes "${IMAGE}@${DIGEST}"',
      'cosign attest --yes --type spdxjson --predicate sbom.spdx.json "${IMAGE}@${DIGEST}"',
    ].join("\n"), { env: { DIGEST: "${{ steps.build.outputs.digest }}" } }),
  ] : [];
  return {
    name: "Build and push",
    "runs-on": runner,
    needs: ["test"],
    // A manual run on another branch must not publish an image.
    if: `github.ref == 'refs/heads/${config.deployBranch}'`,
    permissions: { contents: "read", packages: "write", ...(config.signImages ? { "id-token": "write" as const } : {}) },
    "timeout-minutes": 30,
    outputs: { digest: "${{ steps.build.outputs.digest }}" },
    steps: [
      checkout(),
      { name: "Set up Buildx", uses: uses(actions.setupBuildx) },
      ghcrLogin(),
      {
        name: "Image tags",
        id: "meta",
        uses: uses(actions.dockerMetadata),
        with: { images: "${{ env.IMAGE }}", tags: "type=sha,format=long" },
      },
      {
        name: "Build and push",
        id: "build",
        uses: uses(actions.buildPush),
        with: {
          context: ".",
          push: true,
          tags: "${{ steps.meta.outputs.tags }}",
          labels: "${{ steps.meta.outputs.labels }}",
          "cache-from": `type=gha,scope=${scope}`,
          "cache-to": `type=gha,mode=max,scope=${scope}`,
        },
      },
      ...sign,
      bash("Report the image", [
        "{",
        '  echo "### Image"',
        '  echo "- digest: \\`${DIGEST}\\`"',
        '  echo "- \\`${IMAGE}@${DIGEST}\\` (tag sha-${GITHUB_SHA})"',
        '} >> "$GITHUB_STEP_SUMMARY"',
      ].join("\n"), { env: { DIGEST: "${{ steps.build.outputs.digest }}" } }),
    ],
  };
}

/** Trivy on the pushed digest: off the canary's path, but promotion waits for it. */
function scanJob(config: DeployConfig): Job {
  return {
    name: "Scan the image",
    "runs-on": runner,
    needs: ["build"],
    permissions: { packages: "read" },
    "timeout-minutes": 15,
    steps: [
      {
        name: "Trivy",
        uses: uses(actions.trivy),
        with: {
          "image-ref": "${{ env.IMAGE }}@${{ needs.build.outputs.digest }}",
          severity: config.scanSeverity.join(","),
          "ignore-unfixed": true,
          "exit-code": "1",
          format: "table",
        },
        env: { TRIVY_USERNAME: "${{ github.actor }}", TRIVY_PASSWORD: "${{ secrets.GITHUB_TOKEN }}" },
      },
      bash("Report the scan", [
        "{",
        '  echo "### Vulnerability scan"',
        `  echo "- \\\`\${IMAGE}@\${DIGEST}\\\`: \${STATUS} (severities ${config.scanSeverity.join(", ")}, unfixed ignored)"`,
        '} >> "$GITHUB_STEP_SUMMARY"',
      ].join("\n"), { if: "always()", env: { DIGEST: "${{ needs.build.outputs.digest }}", STATUS: "${{ job.status }}" } }),
    ],
  };
}

/** The environment's deploy workflow. */
export function deployWorkflow(config: DeployConfig): WorkflowFile {
  const first = config.promoteFrom === undefined;
  const canary = canaryJob(config, first ? ["build"] : [], first ? "${{ needs.build.outputs.digest }}" : "${{ inputs.digest }}");
  // The canary hands its (checked) digest on, so promote never re-reads an input.
  const canaryWithOutput: Job = { ...canary, outputs: { digest: "${{ env.DIGEST }}" } };
  const jobs: Record<string, Job> = first
    ? { test: testJob(config), build: buildJob(config), scan: scanJob(config), canary: canaryWithOutput, promote: promoteJob(config, ["canary", "scan"]) }
    : { canary: canaryWithOutput, promote: promoteJob(config, ["canary"]) };
  return {
    path: deployWorkflowPath(config.environment),
    workflow: {
      name: first ? `Deploy to ${config.environment}` : `Promote from ${config.promoteFrom} to ${config.environment}`,
      on: first
        ? { push: { branches: [config.deployBranch] }, workflow_dispatch: null }
        : {
          workflow_dispatch: {
            inputs: {
              digest: {
                description: `Image digest (sha256:…) already deployed to ${config.promoteFrom}`,
                required: true,
                type: "string",
              },
            },
          },
        },
      permissions: {},
      // One deployment per environment at a time; a queued one waits rather than cancelling a rollout.
      concurrency: { group: `deploy-${config.environment}`, "cancel-in-progress": false },
      env: { IMAGE: imageName(config) },
      jobs,
    },
  };
}
