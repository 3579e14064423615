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
import { canaryExpiryExpression } from "../../shared/canary-expiry";
import { bakeOperations, bakeRunner, bakeSpec, bakeStepTimeoutMinutes } from "../../shared/canary-bake";
import { rolloutTimeoutSeconds } from "../../shared/rollout-timing";
import { smokeTestDeadlineSeconds, smokeTestOperations, smokeTestRunner, type SmokeTestSpec } from "../../shared/smoke-test";
import { githubOidc } from "../../shared/oidc-subjects";
import { actions, uses } from "./actions";
import type { Job, Permissions, Step, WorkflowFile } from "./model";
import {
  awsRegionVariable, deployRoleVariable, deployWorkflowPath, eksClusterVariable, imageName, kubeconfigSecret, rollbackEnvironment,
  rollbackKubeconfigSecret, rollbackRoleVariable, runner, slackWebhookSecret,
} from "./names";
import { bash, checkout, ghcrLogin, setupNode } from "./steps";

/** The settings the deploy workflow reads. */
export type DeployConfig = Pick<StackConfig,
  | "githubOwner" | "githubRepository" | "deployBranch" | "environment" | "promoteFrom" | "clusterAuth" | "namespace"
  | "appName" | "replicas" | "canaryWeight" | "nodeVersions" | "smokePaths" | "smokeRequests" | "smokeMaxLatencySeconds" | "scanSeverity"
  | "signImages" | "secrets" | "startupSeconds" | "minReadySeconds" | "canaryLifetimeMinutes" | "canaryBakeSeconds" | "canaryAnalysis">;

/**
 * kubectl on the runner, pinned (within one minor version of the cluster: Kubernetes' skew policy):
 * the version the real tier runs the jobs' scripts with (tools/kubernetes), held equal by a test.
 */
export const kubectlVersion = "v1.36.3";
/** The manifest file the smoke-test runner writes (a shell expression it defines). */
const smokeManifest = '"$manifest"';
/** The image reference the deploy steps use, as the shell sees it (both validated first). */
const imageRef = '"${IMAGE}@${DIGEST}"';
/** The gha cache scope of the publishing build: only this job, on the deploy branch, writes it. */
export const publishCacheScope = (environment: string) => `publish-${environment}`;
/** The in-toto predicate type of the release attestation an environment's promote job signs. */
export const releasePredicateType = "https://canary-pipeline.dev/release/v1";

const targetsOf = (config: DeployConfig) => clusterTargets(config);

/** The smoke test's settings, from the stack's. */
export function smokeTestSpec(config: DeployConfig): SmokeTestSpec {
  const targets = targetsOf(config);
  return {
    targets, podName: targets.smokeTestPod, appName: config.appName, paths: config.smokePaths, maxLatencySeconds: config.smokeMaxLatencySeconds,
    requestsPerPath: config.smokeRequests,
  };
}

/** How long each rollout may take (rollout-timing.ts): the canary's pods start together, stable's one surge pod at a time. */
export function rolloutTimeouts(config: DeployConfig): { canary: number; stable: number } {
  return { canary: rolloutTimeoutSeconds(config, 1), stable: rolloutTimeoutSeconds(config, config.replicas) };
}

/** The cluster operations of the workflow, by the step that runs them. */
function operations(config: DeployConfig) {
  const t = targetsOf(config);
  const canaryReplicas = canarySplit(config.replicas, config.canaryWeight).canaryReplicas;
  const timeouts = rolloutTimeouts(config);
  const bake = bakeSpec(config);
  return {
    stableRelease: clusterOperations.readRelease(t),
    canaryExpiry: clusterOperations.setCanaryExpiry(t, '"$expires"'),
    canaryImage: clusterOperations.setImage(t, t.canaryDeployment, imageRef),
    canaryUp: clusterOperations.scale(t, t.canaryDeployment, canaryReplicas),
    canaryRollout: clusterOperations.rolloutStatus(t, t.canaryDeployment, `${timeouts.canary}s`),
    canaryStates: clusterOperations.podStates(t, t.canarySelector),
    canaryPods: clusterOperations.canaryPodImages(t),
    smokeTest: smokeTestOperations(smokeTestSpec(config), smokeManifest),
    bake: bake ? bakeOperations(bake, smokeManifest) : [],
    canaryDown: clusterOperations.scale(t, t.canaryDeployment, 0),
    readExpiry: clusterOperations.readCanaryExpiry(t),
    stableImageNow: clusterOperations.readImage(t, t.stableDeployment),
    stableImage: clusterOperations.setImage(t, t.stableDeployment, imageRef),
    stableRollout: clusterOperations.rolloutStatus(t, t.stableDeployment, `${timeouts.stable}s`),
    stableStates: clusterOperations.podStates(t, t.stableSelector),
    recordRelease: clusterOperations.setRelease(t, '"$RELEASE"'),
    stableBack: clusterOperations.setImage(t, t.stableDeployment, '"$PREVIOUS_IMAGE"'),
  };
}

/** Exactly the cluster operations the generated workflows run (each once), in order of first use. */
export function deployOperations(config: DeployConfig): ClusterOperation[] {
  const o = operations(config);
  const all = [
    o.stableRelease, o.canaryExpiry, o.canaryImage, o.canaryUp, o.canaryRollout, o.canaryStates, o.canaryPods, ...o.smokeTest, ...o.bake, o.canaryDown,
    o.readExpiry, o.stableImageNow, o.stableImage, o.stableRollout, o.stableStates, o.recordRelease, o.stableBack,
  ];
  // One `kubectl create` creates the smoke-test and the bake pods: both are kept, for the pods they create.
  const same = (a: ClusterOperation, b: ClusterOperation) => a.command === b.command && a.createsPod?.name === b.createsPod?.name;
  return all.filter((op, i) => all.findIndex((other) => same(other, op)) === i);
}

/** What the rollback job does: only this, so its identity may do nothing else. */
export function rollbackOperations(config: DeployConfig): ClusterOperation[] {
  return [operations(config).canaryDown];
}

/** Who a job acts as in the cluster: the deployer, or the rollback identity (it may only scale the canary to 0). */
interface ClusterIdentity {
  readonly role: string;
  readonly roleVariable: string;
  readonly kubeconfigSecret: string;
}
const deployer: ClusterIdentity = { role: "deploy", roleVariable: deployRoleVariable, kubeconfigSecret };
const rollbacker: ClusterIdentity = { role: "rollback", roleVariable: rollbackRoleVariable, kubeconfigSecret: rollbackKubeconfigSecret };

/** Cluster credentials: the identity's role through OIDC (eks), or its kubeconfig from the environment (token). */
function clusterCredentials(config: DeployConfig, identity: ClusterIdentity = deployer): Step[] {
  const install: Step = { name: "Install kubectl", uses: uses(actions.setupKubectl), with: { version: kubectlVersion } };
  if (config.clusterAuth === "eks") {
    return [
      install,
      {
        name: `Assume the ${identity.role} role`,
        uses: uses(actions.awsCredentials),
        with: { "role-to-assume": `\${{ vars.${identity.roleVariable} }}`, "aws-region": `\${{ vars.${awsRegionVariable} }}` },
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
    ].join("\n"), { env: { KUBECONFIG_DATA: `\${{ secrets.${identity.kubeconfigSecret} }}` } }),
  ];
}

const removeKubeconfig = (config: DeployConfig): Step[] => (config.clusterAuth === "token"
  ? [bash("Remove the kubeconfig", 'rm -f "$RUNNER_TEMP/kubeconfig"', { if: "always()" })]
  : []);

/** The digest check, before any step uses it; a digest reaches scripts only through env (never interpolated). */
const digestCheck = (variable: string) => [
  `if [[ ! "$${variable}" =~ ^sha256:[0-9a-f]{64}$ ]]; then`,
  '  echo "::error::the digest must be sha256: followed by 64 lower-case hex digits"',
  "  exit 1",
  "fi",
];
/** The keyless certificate identity of an environment's deploy workflow on the deploy branch. */
const workflowIdentity = (config: DeployConfig, environment: string) =>
  `https://github.com/${config.githubOwner}/${config.githubRepository}/${deployWorkflowPath(environment)}@refs/heads/${config.deployBranch}`;

/** Cosign verification of the build's keyless signature: made by this environment's own deploy workflow. */
function verifySignature(config: DeployConfig): Step[] {
  return [
    bash("Verify the image signature", [
      `cosign verify ${imageRef} \\`,
      `  --certificate-oidc-issuer ${githubOidc.url} \\`,
      `  --certificate-identity '${workflowIdentity(config, config.environment)}' > /dev/null`,
      'echo "- signature verified (keyless, this environment\'s deploy workflow)" >> "$GITHUB_STEP_SUMMARY"',
    ].join("\n")),
  ];
}

/**
 * The release attestation `environment`'s promote job signed (releaseAttestation): keyless, by that
 * environment's deploy workflow on the deploy branch exactly, naming this digest, a passed scan,
 * a passed canary and a succeeded promotion. Its release number becomes this run's.
 */
function verifyRelease(config: DeployConfig, environment: string, extra: Omit<Step, "name" | "run" | "shell"> = {}): Step {
  return bash(`Verify that ${environment} released the digest`, [
    `cosign verify-attestation ${imageRef} \\`,
    `  --type ${releasePredicateType} \\`,
    `  --certificate-oidc-issuer ${githubOidc.url} \\`,
    `  --certificate-identity '${workflowIdentity(config, environment)}' > "$RUNNER_TEMP/attestations.json"`,
    // One envelope per line; the payload is the in-toto statement, base64.
    `release="$(jq -r --arg digest "$DIGEST" --arg environment '${environment}' \\`,
    "  '.payload | @base64d | fromjson | .predicate",
    '   | select(.digest == $digest and .environment == $environment and .scan == "passed" and .canary == "passed" and .promotion == "succeeded")',
    '   | .release\' "$RUNNER_TEMP/attestations.json" | sort -n | tail -n 1)"',
    'if [[ ! "$release" =~ ^[0-9]+$ ]]; then',
    `  echo "::error::${environment} has not released \${DIGEST}: no attestation of its deploy workflow names it with a passed scan, canary and promotion"`,
    "  exit 1",
    "fi",
    'echo "RELEASE=$release" >> "$GITHUB_ENV"',
    `echo "- release \${release}: verified as released by ${environment} (\\\`${workflowIdentity(config, environment)}\\\`)" >> "$GITHUB_STEP_SUMMARY"`,
  ].join("\n"), extra);
}

const installCosign = (): Step => ({ name: "Install cosign", uses: uses(actions.cosignInstaller) });

/**
 * A run that is cancelled (by hand, or by a job exceeding its `timeout-minutes`) re-evaluates the
 * remaining steps' conditions with `failure()` false: cleanup must also ask for `cancelled()`
 * (GitHub docs, "Status check functions").
 */
const failedOrCancelled = "(failure() || cancelled())";

/** Waiting reasons of a container that will not become ready without a change (kubelet's image and container errors). */
export const hopelessReasons = ["CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
  "CreateContainerConfigError", "CreateContainerError", "RunContainerError"] as const;

/**
 * Waits for a rollout and fails as soon as a pod of the new image will never become ready (a
 * hopeless waiting reason, or a restart: a pod of a new release that restarted has crashed), rather
 * than at the rollout's timeout. `kubectl rollout status` itself fails at the Deployment's
 * progressDeadlineSeconds.
 */
function watchRollout(rollout: ClusterOperation, states: ClusterOperation, image: string): string {
  return [
    `${rollout.command} &`,
    "rollout=$!",
    'while kill -0 "$rollout" 2>/dev/null; do',
    `  hopeless="$(${states.command} | awk -F'|' -v image=${image} \\`,
    `    '$2 == image && ($3 ~ /^(${hopelessReasons.join("|")})$/ || $4 > 0) { print $1 ": " ($3 == "" ? "restarted " $4 " time(s)" : $3) }')"`,
    '  if [ -n "$hopeless" ]; then',
    '    kill "$rollout" 2>/dev/null || true',
    '    echo "::error::pods of the new image will not become ready: $hopeless"',
    "    exit 1",
    "  fi",
    "  sleep 3",
    "done",
    'wait "$rollout"',
  ].join("\n");
}

/** The job that assumes a role or signs gets id-token: write; nothing else does. */
const canaryPermissions = (config: DeployConfig): Permissions => ({
  ...(config.clusterAuth === "eks" ? { "id-token": "write" as const } : {}),
  // GHCR packages are private by default: cosign reads the signature and attestations stored beside the image.
  ...(config.signImages ? { packages: "read" as const } : {}),
});

/** Minutes a job may run: its steps' own bounds plus five for setup (checkout of actions, credentials). */
const jobMinutes = (seconds: number) => Math.ceil(seconds / 60) + 5;

/** The canary job's time limit: its rollout, the pod check, the smoke test, the bake window. */
export function canaryJobMinutes(config: DeployConfig): number {
  const bake = bakeSpec(config);
  return jobMinutes(rolloutTimeouts(config).canary + 60 + smokeTestDeadlineSeconds(smokeTestSpec(config)) + 60) + (bake ? bakeStepTimeoutMinutes(bake) : 0);
}
/** The promote job's: stable's rollout and, when it fails, the rollout back. */
export const promoteJobMinutes = (config: DeployConfig) => jobMinutes(2 * rolloutTimeouts(config).stable);

/**
 * The release's digest and number, and whether it is an explicit rollback. The first environment
 * releases its build (numbered by the run) or, run by hand with a digest, rolls back to one it
 * released before; a later environment releases the digest it is given, numbered as the
 * attestation of the environment before it says (unsigned: by its own runs, with nothing to verify).
 */
function chooseRelease(config: DeployConfig): Step {
  const first = config.promoteFrom === undefined;
  return bash("Choose the release", [
    ...(first
      ? [
        'if [ -n "$ROLLBACK_DIGEST" ]; then digest="$ROLLBACK_DIGEST"; rollback=true; else digest="$BUILT_DIGEST"; rollback=false; fi',
        'echo "RELEASE=$RUN_NUMBER" >> "$GITHUB_ENV"',
      ]
      : [
        'digest="$REQUESTED_DIGEST"',
        'if [ "$ROLLBACK_REQUESTED" = true ]; then rollback=true; else rollback=false; fi',
        // Signed, the number comes from the attestation verified next; unsigned, from this workflow's runs.
        ...(config.signImages ? [] : ['echo "RELEASE=$RUN_NUMBER" >> "$GITHUB_ENV"']),
      ]),
    ...digestCheck("digest"),
    'echo "DIGEST=$digest" >> "$GITHUB_ENV"',
    'echo "ROLLBACK=$rollback" >> "$GITHUB_ENV"',
  ].join("\n"), { env: first
    ? { BUILT_DIGEST: "${{ needs.build.outputs.digest }}", ROLLBACK_DIGEST: "${{ inputs.digest }}", RUN_NUMBER: "${{ github.run_number }}" }
    : { REQUESTED_DIGEST: "${{ inputs.digest }}", ROLLBACK_REQUESTED: "${{ inputs.rollback }}", ...(config.signImages ? {} : { RUN_NUMBER: "${{ github.run_number }}" }) } });
}

/** A Slack message when a webhook is configured (none otherwise), with a link to the run. */
function slackNotice(config: DeployConfig, what: string, condition: string): Step[] {
  if (!config.secrets.slackWebhook) return [];
  return [{
    name: "Notify Slack of the rollback",
    if: condition,
    uses: uses(actions.slack),
    with: {
      webhook: `\${{ secrets.${slackWebhookSecret} }}`,
      "webhook-type": "incoming-webhook",
      payload: [
        `text: ":rotating_light: ${config.appName}: ${what}."`,
        "blocks:",
        "  - type: section",
        "    text:",
        "      type: mrkdwn",
        `      text: ":rotating_light: *${config.appName}* in *${config.environment}*: ${what}. <\${{ github.server_url }}/\${{ github.repository }}/actions/runs/\${{ github.run_id }}|Run \${{ github.run_id }}>"`,
      ].join("\n"),
    },
  }];
}

/** The canary job: deploy by digest, check the pods, smoke-test; on failure or cancellation scale the canary back to 0. */
function canaryJob(config: DeployConfig): Job {
  const o = operations(config);
  const split = canarySplit(config.replicas, config.canaryWeight);
  const t = targetsOf(config);
  const first = config.promoteFrom === undefined;
  const bake = bakeSpec(config);
  const slack = slackNotice(config, `the canary in ${config.environment} failed; a deployed canary was scaled back to 0 and stable is unchanged`, failedOrCancelled);
  // The first environment checks its build's signature, and a rollback's release; a later one
  // accepts only what the environment before it released.
  const provenance: Step[] = !config.signImages ? [] : [
    installCosign(),
    ghcrLogin(),
    ...(first ? [...verifySignature(config), verifyRelease(config, config.environment, { if: "env.ROLLBACK == 'true'" })] : [verifyRelease(config, config.promoteFrom!)]),
  ];
  return {
    name: `Canary (${config.environment})`,
    "runs-on": runner,
    ...(first ? {
      needs: ["build"],
      // A rollback by hand builds nothing: the build is skipped and the canary takes the given digest.
      if: "!cancelled() && (needs.build.result == 'success' || (needs.build.result == 'skipped' && inputs.digest != ''))",
    } : {}),
    environment: { name: config.environment },
    permissions: canaryPermissions(config),
    "timeout-minutes": canaryJobMinutes(config),
    outputs: { digest: "${{ steps.report.outputs.digest }}", release: "${{ steps.report.outputs.release }}" },
    steps: [
      chooseRelease(config),
      ...provenance,
      ...clusterCredentials(config),
      bash("Refuse a release older than stable's", [
        `current="$(${o.stableRelease.command})"`,
        'if [ -n "$current" ] && [ "$RELEASE" -lt "$current" ]; then',
        '  if [ "$ROLLBACK" != true ]; then',
        `    echo "::error::release \${RELEASE} is older than release \${current}, which stable runs: a re-run cannot go back in time. To roll back, run this workflow by hand with the digest${first ? "" : " and rollback"}."`,
        "    exit 1",
        "  fi",
        '  echo "- explicit rollback from release ${current} to release ${RELEASE}" >> "$GITHUB_STEP_SUMMARY"',
        "fi",
      ].join("\n")),
      bash("Deploy the digest to the canary", [
        // The expiry first: from here on the reaper scales this canary to 0 once it is past.
        `expires="${canaryExpiryExpression(config)}"`,
        o.canaryExpiry.command,
        o.canaryImage.command,
        o.canaryUp.command,
        watchRollout(o.canaryRollout, o.canaryStates, imageRef),
      ].join("\n"), { id: "deploy" }),
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
      bash("Smoke test", smokeTestRunner(smokeTestSpec(config)), { "timeout-minutes": Math.ceil(smokeTestDeadlineSeconds(smokeTestSpec(config)) / 60) + 1 }),
      ...(bake ? [bash("Bake the canary", bakeRunner(bake), { "timeout-minutes": bakeStepTimeoutMinutes(bake) })] : []),
      bash("Report the canary", [
        "{",
        `  echo "### Canary in ${config.environment}"`,
        '  echo "- image: \\`${IMAGE}@${DIGEST}\\` (release ${RELEASE})"',
        `  echo "- ${split.canaryReplicas} canary pod(s) beside ${config.replicas} stable: ${split.actualWeight.toFixed(1)}% of traffic"`,
        '  echo "- smoke test passed"',
        ...(bake ? [`  echo "- held and judged for ${bake.bakeSeconds} s: passed"`] : []),
        '} >> "$GITHUB_STEP_SUMMARY"',
        'echo "digest=$DIGEST" >> "$GITHUB_OUTPUT"',
        'echo "release=$RELEASE" >> "$GITHUB_OUTPUT"',
      ].join("\n"), { id: "report" }),
      bash("Roll the canary back", [
        o.canaryDown.command,
        "{",
        `  echo "### Rolled back in ${config.environment}"`,
        `  echo "- canary deployment/${t.canaryDeployment} scaled to 0; stable keeps its image"`,
        '  echo "- rejected image: \\`${IMAGE}@${DIGEST}\\`"',
        '} >> "$GITHUB_STEP_SUMMARY"',
      // On failure, and on cancellation (by hand or a job's timeout-minutes: failure() is false
      // then), but only once the canary was touched: a failure before (bad digest, bad
      // signature, an older release) left it as it was.
      ].join("\n"), { if: `${failedOrCancelled} && steps.deploy.outcome != 'skipped'` }),
      ...slack,
      ...removeKubeconfig(config),
    ],
  };
}

/**
 * The release attestation: this environment's deploy workflow signs (keyless) that it released the
 * digest: the scan passed (the first environment's promote waits for it; a later one releases only
 * what an earlier one attested), the canary passed and the promotion succeeded. The next
 * environment verifies it with this workflow's exact identity (verifyRelease).
 */
function releaseAttestation(config: DeployConfig): Step[] {
  return [
    installCosign(),
    ghcrLogin(),
    bash("Attest the release", [
      "jq -n --arg digest \"$DIGEST\" --argjson release \"$RELEASE\" --arg environment '" + config.environment + "' \\",
      '  --arg run "${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}" \\',
      "  '{digest: $digest, release: $release, environment: $environment, scan: \"passed\", canary: \"passed\", promotion: \"succeeded\", run: $run}' > \"$RUNNER_TEMP/release.json\"",
      `cosign attest --yes --type ${releasePredicateType} --predicate "$RUNNER_TEMP/release.json" ${imageRef}`,
      `echo "- release attestation signed (\\\`${releasePredicateType}\\\`)" >> "$GITHUB_STEP_SUMMARY"`,
    ].join("\n")),
  ];
}

/**
 * The promote job: refuse an expired canary, record stable's image, move stable to the canary's
 * digest (back to the recorded image if that fails or is cancelled), retire the canary, attest.
 */
function promoteJob(config: DeployConfig, needs: string[]): Job {
  const o = operations(config);
  const t = targetsOf(config);
  const first = config.promoteFrom === undefined;
  return {
    name: `Promote (${config.environment})`,
    "runs-on": runner,
    needs,
    ...(first ? {
      // A rollback by hand scans nothing: it releases a digest this environment attested before.
      if: "!cancelled() && needs.canary.result == 'success' && (needs.scan.result == 'success' || (needs.scan.result == 'skipped' && inputs.digest != ''))",
    } : {}),
    environment: { name: config.environment },
    permissions: {
      ...(config.clusterAuth === "eks" || config.signImages ? { "id-token": "write" as const } : {}),
      // The attestation is stored beside the image.
      ...(config.signImages ? { packages: "write" as const } : {}),
    },
    "timeout-minutes": promoteJobMinutes(config),
    env: { DIGEST: "${{ needs.canary.outputs.digest }}", RELEASE: "${{ needs.canary.outputs.release }}" },
    steps: [
      bash("Check the digest and the release", [
        ...digestCheck("DIGEST"),
        'if [[ ! "$RELEASE" =~ ^[0-9]+$ ]]; then echo "::error::the release number must be a whole number"; exit 1; fi',
      ].join("\n")),
      ...clusterCredentials(config),
      bash("Check that the canary has not expired", [
        `expires="$(${o.readExpiry.command})"`,
        'if [ -z "$expires" ] || [ "$(date +%s)" -ge "$expires" ]; then',
        `  echo "::error::the canary expired at \${expires:-an unknown time} (canaryLifetimeMinutes ${config.canaryLifetimeMinutes}): it was approved too late and is scaled to 0; release again"`,
        "  exit 1",
        "fi",
      ].join("\n")),
      bash("Record stable's image", [
        `previous="$(${o.stableImageNow.command})"`,
        'echo "PREVIOUS_IMAGE=$previous" >> "$GITHUB_ENV"',
        'echo "- stable ran \\`${previous}\\` before this promotion" >> "$GITHUB_STEP_SUMMARY"',
      ].join("\n")),
      bash("Promote the digest to stable", [
        o.stableImage.command,
        watchRollout(o.stableRollout, o.stableStates, imageRef),
        o.recordRelease.command,
      ].join("\n"), { id: "promote" }),
      bash("Retire the canary", o.canaryDown.command),
      ...(config.signImages ? releaseAttestation(config) : []),
      bash("Report the promotion", [
        "{",
        `  echo "### Promoted in ${config.environment}"`,
        `  echo "- deployment/${t.stableDeployment} now runs \\\`\${IMAGE}@\${DIGEST}\\\` (release \${RELEASE})"`,
        `  echo "- canary deployment/${t.canaryDeployment} scaled to 0"`,
        '} >> "$GITHUB_STEP_SUMMARY"',
      ].join("\n")),
      bash("Put stable back on its previous image", [
        o.stableBack.command,
        o.stableRollout.command,
        "{",
        `  echo "### Promotion failed in ${config.environment}"`,
        `  echo "- deployment/${t.stableDeployment} is back on \\\`\${PREVIOUS_IMAGE}\\\`"`,
        '} >> "$GITHUB_STEP_SUMMARY"',
      ].join("\n"), { if: "(failure() || cancelled()) && (steps.promote.outcome == 'failure' || steps.promote.outcome == 'cancelled')" }),
      ...removeKubeconfig(config),
    ],
  };
}

/**
 * The rollback job: whenever a run ends without promoting a canary it deployed (a failed or
 * cancelled canary or promote job, a failed scan, a rejected approval), it scales the canary to 0.
 * It runs in the rollback environment, which has no reviewers, as the rollback identity.
 */
function rollbackJob(config: DeployConfig, needs: string[]): Job {
  const o = operations(config);
  const t = targetsOf(config);
  return {
    name: `Roll back (${config.environment})`,
    "runs-on": runner,
    needs,
    // always(): also after a cancellation (GitHub runs always() jobs of a cancelled run).
    if: "always() && needs.canary.result != 'skipped' && needs.promote.result != 'success'",
    environment: { name: rollbackEnvironment(config.environment) },
    permissions: config.clusterAuth === "eks" ? { "id-token": "write" } : {},
    "timeout-minutes": 10,
    steps: [
      ...clusterCredentials(config, rollbacker),
      bash("Scale the canary to 0", [
        o.canaryDown.command,
        "{",
        `  echo "### Rolled back in ${config.environment}"`,
        `  echo "- the run ended without a promotion: canary deployment/${t.canaryDeployment} scaled to 0; stable keeps its image"`,
        '} >> "$GITHUB_STEP_SUMMARY"',
      ].join("\n")),
      ...slackNotice(config, "the run ended without a promotion; the canary was scaled to 0 and stable is unchanged", "always()"),
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
  const canary = canaryJob(config);
  const jobs: Record<string, Job> = first
    ? {
      test: testJob(config), build: buildJob(config), scan: scanJob(config), canary, promote: promoteJob(config, ["canary", "scan"]),
      rollback: rollbackJob(config, ["canary", "scan", "promote"]),
    }
    : { canary, promote: promoteJob(config, ["canary"]), rollback: rollbackJob(config, ["canary", "promote"]) };
  return {
    path: deployWorkflowPath(config.environment),
    workflow: {
      name: first ? `Deploy to ${config.environment}` : `Promote from ${config.promoteFrom} to ${config.environment}`,
      on: first
        ? {
          push: { branches: [config.deployBranch] },
          workflow_dispatch: {
            inputs: {
              digest: {
                description: `Roll back: a digest (sha256:…) ${config.environment} released before. Empty: build and release ${config.deployBranch}.`,
                required: false,
                type: "string",
                default: "",
              },
            },
          },
        }
        : {
          workflow_dispatch: {
            inputs: {
              digest: {
                description: `Image digest (sha256:…) that ${config.promoteFrom} released`,
                required: true,
                type: "string",
              },
              rollback: {
                description: "Roll back: allow a release older than the one stable runs",
                required: false,
                type: "boolean",
                default: "false",
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
