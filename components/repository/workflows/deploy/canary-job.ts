// The canary job: choose the release and check its provenance, deploy its digest to the canary,
// check the pods, smoke-test and bake it; on failure or cancellation scale the canary back to 0.
import { canaryExpiryExpression } from "../../../shared/canary-expiry";
import { bakeRunner, bakeStepTimeoutMinutes } from "../../../shared/canary-bake";
import { rolloutWatchScript } from "../../../shared/rollout-watch";
import { composeScript, operationPreamble, scriptText, shellParameters } from "../../../shared/script-files";
import { smokeTestDeadlineSeconds, smokeTestRunner } from "../../../shared/smoke-test";
import { expression, needs, StepId, writeOutputs } from "../links";
import type { Job, Permissions, Step } from "../model";
import { runner } from "../names";
import { bash, ghcrLogin } from "../steps";
import { builtImageDigest } from "./build-job";
import { clusterCredentials, removeKubeconfig } from "./cluster-access";
import { slackNotice } from "./notify";
import { cleanupMinutes, deployEnv, deployJobs, imageRef, type DeployPlan, type RolloutEnginePlan } from "./plan";
import { digestCheck, installCosign, verifyRelease, verifySignature } from "./provenance";

const { digest, release, rollback } = deployEnv;
const { build, canary } = deployJobs;

/** The step that touches the canary: the rollback step runs only once it has. */
const deployStep = new StepId("deploy");
/** The step that reports a passed canary, and its outputs: the job's. */
const reportStep = new StepId("report");
export const canaryOutputs = {
  digest: reportStep.output("digest"),
  release: reportStep.output("release"),
  rollback: reportStep.output("rollback"),
  /** When the canary expires (Unix seconds), written as it is deployed. */
  expires: deployStep.output("expires"),
} as const;
/** What the jobs after the canary read of it. */
export const canaryJobOutputs = {
  digest: expression(canary.output(canaryOutputs.digest.name)),
  release: expression(canary.output(canaryOutputs.release.name)),
  rollback: expression(canary.output(canaryOutputs.rollback.name)),
  expires: expression(canary.output(canaryOutputs.expires.name)),
} as const;

/**
 * Scales this run's canary to 0 and leaves one another run deployed since alone: the canary job's
 * and the rollback job's clean-up, bounded for GitHub's end of a cancelled run.
 */
export function retireCanaryStep(plan: DeployPlan, name: string, condition: string): Step {
  if (plan.argo) {
    // The Argo Rollouts engine: the controller scales an aborted canary to 0.
    return bash(
      name,
      composeScript(
        operationPreamble(plan.argo.operations.abort),
        shellParameters({
          ROLLOUT_NAME: plan.argo.rollout.name,
          SUMMARY_TITLE: `Rolled back in ${plan.config.environment}`,
        }),
        scriptText("retrying.sh"),
        scriptText("rollout-abort.sh"),
      ),
      { if: condition, "timeout-minutes": cleanupMinutes.retireCanary },
    );
  }
  return bash(
    name,
    composeScript(
      operationPreamble(plan.operations.retireCanary),
      shellParameters({
        CANARY_NAME: plan.targets.canaryDeployment,
        SUMMARY_TITLE: `Rolled back in ${plan.config.environment}`,
      }),
      scriptText("retrying.sh"),
      scriptText("canary-retire.sh"),
    ),
    { if: condition, "timeout-minutes": cleanupMinutes.retireCanary },
  );
}

/**
 * A run that is cancelled (by hand, or by a job exceeding its `timeout-minutes`) re-evaluates the
 * remaining steps' conditions with `failure()` false: cleanup must also ask for `cancelled()`
 * (GitHub docs, "Status check functions").
 */
export const failedOrCancelled = "(failure() || cancelled())";

/** The job that assumes a role or signs gets id-token: write; nothing else does. */
const canaryPermissions = ({ config }: DeployPlan): Permissions => ({
  ...(config.clusterAuth === "eks" ? { "id-token": "write" as const } : {}),
  // GHCR packages are private by default: cosign reads the signature and attestations stored beside the image.
  ...(config.signImages ? { packages: "read" as const } : {}),
});

/**
 * The release's digest and number, and whether it is an explicit rollback. The first environment
 * releases its build (numbered by the run) or, run by hand with a digest, rolls back to one it
 * released before; a later environment releases the digest it is given, numbered as the
 * attestation of the environment before it says (unsigned: by its own runs, with nothing to verify).
 */
function chooseRelease({ config, first }: DeployPlan): Step {
  const runNumber = { RUN_NUMBER: expression("github.run_number") };
  return bash(
    "Choose the release",
    [
      ...(first
        ? [
            'if [ -n "$ROLLBACK_DIGEST" ]; then digest="$ROLLBACK_DIGEST"; rollback=true; else digest="$BUILT_DIGEST"; rollback=false; fi',
            release.write("$RUN_NUMBER"),
          ]
        : [
            'digest="$REQUESTED_DIGEST"',
            'if [ "$ROLLBACK_REQUESTED" = true ]; then rollback=true; else rollback=false; fi',
            // Signed, the number comes from the attestation verified next; unsigned, from this workflow's runs.
            ...(config.signImages ? [] : [release.write("$RUN_NUMBER")]),
          ]),
      ...digestCheck("digest"),
      digest.write("$digest"),
      rollback.write("$rollback"),
    ].join("\n"),
    {
      env: first
        ? { BUILT_DIGEST: builtImageDigest, ROLLBACK_DIGEST: expression("inputs.digest"), ...runNumber }
        : {
            REQUESTED_DIGEST: expression("inputs.digest"),
            ROLLBACK_REQUESTED: expression("inputs.rollback"),
            ...(config.signImages ? {} : runNumber),
          },
    },
  );
}

/**
 * The first environment checks its build's signature, and a rollback's release; a later one
 * accepts only what the environment before it released.
 */
function provenance({ config, first }: DeployPlan): Step[] {
  if (!config.signImages) return [];
  return [
    installCosign(),
    ghcrLogin(),
    ...(first
      ? [verifySignature(config), verifyRelease(config, config.environment, { if: `${rollback.expression} == 'true'` })]
      : [verifyRelease(config, config.promoteFrom!)]),
  ];
}

/** The pipeline engine's canary: deploy the digest to the canary Deployment, check its pods, smoke-test and bake it. */
function pipelineCanarySteps(plan: DeployPlan): Step[] {
  const { config, operations: o, bake } = plan;
  const smokeTestMinutes = Math.ceil(smokeTestDeadlineSeconds(plan.smokeTest) / 60) + 1;
  return [
    bash(
      "Deploy the digest to the canary",
      [
        // The expiry first: from here on the reaper scales this canary to 0 once it is past.
        `expires="${canaryExpiryExpression(config)}"`,
        canaryOutputs.expires.write("$expires"),
        // The run's id beside it: a promotion, and a run's clean-up, act only on their own run's canary.
        o.claimCanary.command,
        o.canaryImage.command,
        o.canaryUp.command,
        rolloutWatchScript(o.canaryRollout, o.canaryStates, imageRef),
      ].join("\n"),
      { id: deployStep.id },
    ),
    bash(
      "Check that the canary pods run the digest",
      [
        // Pods of the replaced ReplicaSet may still be terminating right after the rollout.
        "for _ in $(seq 12); do",
        `  images="$(${o.canaryPods.command})"`,
        `  if [ -n "$images" ] && ! grep -qv -- "@${digest.braced}\\$" <<< "$images"; then`,
        '    echo "$images"',
        "    exit 0",
        "  fi",
        "  sleep 5",
        "done",
        `echo "::error::the canary pods do not all run ${digest.braced}:"`,
        'echo "$images"',
        "exit 1",
      ].join("\n"),
    ),
    bash("Smoke test", smokeTestRunner(plan.smokeTest), { "timeout-minutes": smokeTestMinutes }),
    ...(bake ? [bash("Bake the canary", bakeRunner(bake), { "timeout-minutes": bakeStepTimeoutMinutes(bake) })] : []),
  ];
}

/**
 * The Argo Rollouts engine's canary: release the digest to the Rollout and wait for the
 * controller's verdict; its steps (the weight, the smoke test and bake as AnalysisRuns) judge it.
 */
function rolloutCanarySteps(plan: DeployPlan, argo: RolloutEnginePlan): Step[] {
  const { config } = plan;
  const o = argo.operations;
  return [
    bash(
      "Release the digest to the Rollout",
      [
        // The end of its approval pause, for the approval deadline: the controller takes the canary out then.
        `expires="${canaryExpiryExpression(config)}"`,
        canaryOutputs.expires.write("$expires"),
        // The run's id first: a promotion, and a run's clean-up, act only on their own run's canary.
        o.claim.command,
        // The verdict counts only the controller's statuses from here on.
        deployEnv.releasedAt.write("$(date +%s)"),
        o.setImage.command,
      ].join("\n"),
      { id: deployStep.id },
    ),
    bash(
      "Wait for the controller's verdict",
      composeScript(
        operationPreamble(o.verdict),
        `RELEASE_IMAGE=${imageRef}`,
        shellParameters({
          ROLLOUT_NAME: argo.rollout.name,
          APPROVAL_STEP: argo.rollout.approvalStep,
          VERDICT_SECONDS: argo.verdictSeconds,
          CHECK_SECONDS: argo.checkSeconds,
        }),
        scriptText("retrying.sh"),
        scriptText("rollout-verdict.sh"),
      ),
      { "timeout-minutes": Math.ceil(argo.verdictSeconds / 60) + 1 },
    ),
  ];
}

export function canaryJob(plan: DeployPlan): Job {
  const { config, first, split, bake, argo } = plan;
  const stableRelease = argo ? argo.operations.stableRelease : plan.operations.stableRelease;
  return {
    name: `Canary (${config.environment})`,
    "runs-on": runner,
    ...(first
      ? {
          needs: needs(build),
          // A rollback by hand builds nothing: the build is skipped and the canary takes the given digest.
          if: `!cancelled() && (${build.result} == 'success' || (${build.result} == 'skipped' && inputs.digest != ''))`,
        }
      : {}),
    environment: { name: config.environment },
    permissions: canaryPermissions(plan),
    "timeout-minutes": plan.minutes.canary,
    outputs: Object.fromEntries(
      Object.values(canaryOutputs).map((output) => [output.name, expression(output.expression)]),
    ),
    steps: [
      chooseRelease(plan),
      ...provenance(plan),
      ...clusterCredentials(config, plan.sessionSeconds.deployer),
      bash(
        "Refuse a release older than stable's",
        [
          `current="$(${stableRelease.command})"`,
          `if [ -n "$current" ] && [ "${release.ref}" -lt "$current" ]; then`,
          `  if [ "${rollback.ref}" != true ]; then`,
          `    echo "::error::release ${release.braced} is older than release \${current}, which stable runs: a re-run cannot go back in time. To roll back, run this workflow by hand with the digest${first ? "" : " and rollback"}."`,
          "    exit 1",
          "  fi",
          `  echo "- explicit rollback from release \${current} to release ${release.braced}" >> "$GITHUB_STEP_SUMMARY"`,
          "fi",
        ].join("\n"),
      ),
      ...(argo ? rolloutCanarySteps(plan, argo) : pipelineCanarySteps(plan)),
      bash(
        "Report the canary",
        [
          "{",
          `  echo "### Canary in ${config.environment}"`,
          `  echo "- image: \\\`${deployEnv.image.braced}@${digest.braced}\\\` (release ${release.braced})"`,
          ...(argo
            ? [
                `  echo "- rollout/${argo.rollout.name} at setWeight ${config.canaryWeight}: the controller's smoke test${bake ? ` and ${bake.bakeSeconds} s bake` : ""} passed"`,
                `  echo "- it waits for the promotion at step ${argo.rollout.approvalStep}, for at most ${argo.rollout.approvalPauseSeconds} s"`,
              ]
            : [
                `  echo "- ${split.canaryReplicas} canary pod(s) beside ${config.replicas} stable: ${split.actualWeight.toFixed(1)}% of traffic"`,
                '  echo "- smoke test passed"',
                ...(bake ? [`  echo "- held and judged for ${bake.bakeSeconds} s: passed"`] : []),
              ]),
          '} >> "$GITHUB_STEP_SUMMARY"',
          ...writeOutputs([
            [canaryOutputs.digest, digest.ref],
            [canaryOutputs.release, release.ref],
            [canaryOutputs.rollback, rollback.ref],
          ]),
        ].join("\n"),
        { id: reportStep.id },
      ),
      // On failure, and on cancellation (by hand or a job's timeout-minutes: failure() is false
      // then), but only once the canary was touched: a failure before (bad digest, bad signature,
      // an older release) left it as it was.
      retireCanaryStep(plan, "Roll the canary back", `${failedOrCancelled} && ${deployStep.outcome} != 'skipped'`),
      ...slackNotice(
        config,
        `the canary in ${config.environment} failed; a deployed canary was scaled back to 0 and stable is unchanged`,
        failedOrCancelled,
      ),
      ...removeKubeconfig(config),
    ],
  };
}
