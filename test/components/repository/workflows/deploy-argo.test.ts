// The deploy workflow under canaryEngine argo-rollouts: the canary job releases the digest to the
// Rollout and waits for the controller's verdict (no smoke-test or bake pod of its own), the
// promote job promotes the canary fully and aborts it when the promotion fails (no put-back of
// stable's image: the controller keeps stable's pods), the rollback job aborts; each clean-up
// bounded for a cancelled run; a gated environment still cancels a run whose approval outlives
// the canary. Every kubectl comes from the plan's operations, and the step indexes the scripts
// wait on are the Rollout's.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rolloutPlan } from "../../../../components/shared/argo-rollout";
import { canaryExpiryExpression } from "../../../../components/shared/canary-expiry";
import { clusterTargets } from "../../../../components/shared/cluster-operations";
import { deployPlan, rollbackOperations } from "../../../../components/repository/workflows/deploy";
import { cleanupMinutes } from "../../../../components/repository/workflows/deploy/plan";
import type { StackConfig } from "../../../../config/schema";
import { devLike, prodLike, renderedWorkflows, type ParsedJob, type ParsedStep } from "./stack-configs";

const argo = (config: StackConfig): StackConfig => ({ ...config, canaryEngine: "argo-rollouts" });
const configs = { dev: argo(devLike()), prod: argo(prodLike()) };

const deployFile = (config: StackConfig) =>
  renderedWorkflows(config).find((f) => f.path === `.github/workflows/deploy-${config.environment}.yml`)!.workflow;

const step = (job: ParsedJob, name: string): ParsedStep => {
  const found = job.steps.find((s) => s.name === name);
  assert.ok(found, `no step "${name}" in ${job.steps.map((s) => s.name).join(", ")}`);
  return found;
};
/** The names of the steps after the kubeconfig is written: what the job does in the cluster. */
const clusterSteps = (job: ParsedJob) =>
  job.steps.slice(job.steps.findIndex((s) => s.name === "Write the kubeconfig") + 1).map((s) => s.name);

const failedOrCancelled = "(failure() || cancelled())";

for (const [stack, config] of Object.entries(configs)) {
  describe(`deploy workflow, canaryEngine argo-rollouts (${stack})`, () => {
    const workflow = deployFile(config);
    const { canary, promote, rollback } = workflow.jobs;
    const plan = deployPlan(config);
    const rollout = rolloutPlan(config);
    const t = clusterTargets(config);

    test("the canary job releases the digest to the Rollout, waits for the verdict, reports, and aborts on failure", () => {
      assert.deepEqual(clusterSteps(canary), [
        "Refuse a release older than stable's",
        "Release the digest to the Rollout",
        "Wait for the controller's verdict",
        "Report the canary",
        "Roll the canary back",
        ...(config.secrets.slackWebhook ? ["Notify Slack of the rollback"] : []),
      ]);
      const release = step(canary, "Release the digest to the Rollout");
      assert.equal(release.id, "deploy");
      const lines = release.run!.split("\n");
      const claim = lines.findIndex((l) =>
        l.startsWith(`kubectl annotate rollout/${t.rollout} canary-pipeline.dev/run=`),
      );
      const patch = lines.findIndex((l) => l.startsWith(`kubectl patch rollout/${t.rollout} --type=json `));
      assert.ok(claim >= 0 && patch > claim, "the run claims the Rollout before it sets the image");
      assert.ok(
        lines[patch].includes(
          `{\\"op\\":\\"test\\",\\"path\\":\\"/spec/template/spec/containers/0/name\\",\\"value\\":\\"${t.container}\\"}`,
        ),
        "the patch tests the container's name before it replaces its image",
      );
      assert.ok(lines[patch].includes('\\"value\\":\\"${IMAGE}@${DIGEST}\\"'));
      assert.ok(lines[patch].endsWith(`--namespace ${t.namespace}`));
    });

    test("no smoke-test or bake pod, no Deployment: the controller's AnalysisRuns judge the canary", () => {
      const scripts = [canary, promote, rollback].flatMap((j) => j.steps.flatMap((s) => (s.run ? [s.run] : [])));
      for (const script of scripts) {
        assert.doesNotMatch(script, /\bkubectl (create|run|logs|wait|delete|scale|set image|rollout)\b/);
        assert.doesNotMatch(script, /\bdeployment\//);
      }
      for (const job of [canary, promote])
        for (const name of job.steps.map((s) => s.name ?? ""))
          assert.doesNotMatch(name, /smoke|bake|pods?\b/i, `${name}: a step of the pipeline engine`);
    });

    test("the verdict waits at the Rollout's approval pause, for the bound the plan computes", () => {
      const wait = step(canary, "Wait for the controller's verdict");
      assert.match(wait.run!, new RegExp(`^APPROVAL_STEP=${rollout.approvalStep}$`, "m"));
      assert.match(wait.run!, new RegExp(`^ROLLOUT_NAME="${rollout.name}"$`, "m"));
      assert.match(wait.run!, new RegExp(`^VERDICT_SECONDS=${plan.argo!.verdictSeconds}$`, "m"));
      const pause = rollout.steps[rollout.approvalStep];
      assert.ok("pause" in pause && pause.pause.duration !== undefined);
      assert.equal(wait["timeout-minutes"], Math.ceil(plan.argo!.verdictSeconds / 60) + 1);
      assert.ok(
        canary["timeout-minutes"]! >= wait["timeout-minutes"] + cleanupMinutes.retireCanary,
        "room for the wait and the clean-up",
      );
    });

    test("the canary's expiry is the end of its approval pause: canaryLifetimeMinutes from the release", () => {
      const release = step(canary, "Release the digest to the Rollout");
      assert.ok(release.run!.includes(`expires="${canaryExpiryExpression(config)}"`));
      assert.equal(rollout.analysisSeconds + rollout.approvalPauseSeconds, config.canaryLifetimeMinutes * 60);
    });

    test("a failed or cancelled canary job aborts this run's canary, within a minute, only once it released", () => {
      const abort = step(canary, "Roll the canary back");
      assert.equal(abort.if, `${failedOrCancelled} && steps.deploy.outcome != 'skipped'`);
      assert.equal(abort["timeout-minutes"], cleanupMinutes.retireCanary);
      assert.ok(
        abort.run!.includes(
          `kubectl patch rollout/${t.rollout} --subresource=status --type=merge --patch "{\\"metadata\\":{\\"resourceVersion\\":\\"$1\\"},\\"status\\":{\\"abort\\":true}}" --namespace ${t.namespace}`,
        ),
      );
      assert.match(abort.run!, /if \[ "\$run" != "\$GITHUB_RUN_ID" \]; then/, "another run's canary is left alone");
    });

    test("the promote job promotes fully, records the release once stable is Healthy, and aborts a failed promotion; no put-back", () => {
      assert.deepEqual(clusterSteps(promote).slice(0, 2), ["Promote the canary", "Abort the promotion"]);
      const names = promote.steps.map((s) => s.name);
      for (const gone of ["Put stable back on its previous image", "Record stable's image", "Retire the canary"])
        assert.ok(!names.includes(gone), gone);
      const run = step(promote, "Promote the canary").run!;
      assert.ok(
        run.includes(
          `kubectl patch rollout/${t.rollout} --subresource=status --type=merge --patch "{\\"metadata\\":{\\"resourceVersion\\":\\"$1\\"},\\"status\\":{\\"promoteFull\\":true}}"`,
        ),
      );
      assert.match(run, new RegExp(`^APPROVAL_STEP=${rollout.approvalStep}$`, "m"));
      // The release is recorded before the script's successful exit: a line after it would never run.
      const lines = run.split("\n");
      const healthy = lines.findIndex((l) => l.includes("is Healthy: every replica runs"));
      const exit = lines.findIndex((l, i) => i > healthy && l.trim() === "exit 0");
      const records = lines.findIndex(
        (l, i) =>
          i > healthy &&
          i < exit &&
          (l.trim() === "record_release" ||
            l.includes(`kubectl annotate rollout/${t.rollout} canary-pipeline.dev/release=`)),
      );
      assert.ok(healthy >= 0 && exit > healthy, "the script exits once the Rollout is Healthy");
      assert.ok(records > healthy, "the release is recorded on the Healthy path, before its exit 0");
      const abort = step(promote, "Abort the promotion");
      assert.equal(
        abort.if,
        `${failedOrCancelled} && (steps.promote.outcome == 'failure' || steps.promote.outcome == 'cancelled')`,
      );
      assert.equal(abort["timeout-minutes"], cleanupMinutes.retireCanary);
      assert.ok(abort.run!.includes('\\"status\\":{\\"abort\\":true}'));
    });

    test("the rollback job aborts, as the rollback identity, in its environment, within its bound", () => {
      assert.equal(rollback.environment?.name, `${config.environment}-rollback`);
      assert.equal(rollback["timeout-minutes"], cleanupMinutes.rollbackJob);
      const kubectl = rollback.steps.filter((s) => s.run?.includes("kubectl"));
      assert.deepEqual(
        kubectl.map((s) => [s.name, s.if, s["timeout-minutes"]]),
        [["Scale the canary to 0", "always()", cleanupMinutes.retireCanary]],
      );
      for (const op of rollbackOperations(config)) assert.ok(kubectl[0].run!.includes(op.command), op.command);
      assert.ok(!kubectl[0].run!.includes("promoteFull"));
    });

    test("every kubectl in a run: script is one of the plan's operations, and each of them is run", () => {
      const commands = [...plan.deployerOperations, ...plan.rollbackOperations].map((o) => o.command);
      const scripts = Object.values(workflow.jobs).flatMap((j) => j.steps.flatMap((s) => (s.run ? [s.run] : [])));
      for (const script of scripts)
        assert.doesNotMatch(
          commands.reduce((rest, c) => rest.split(c).join("<op>"), script),
          /\bkubectl\b/,
          `a hand-written kubectl in\n${script}`,
        );
      for (const command of commands)
        assert.ok(
          scripts.some((s) => s.includes(command)),
          `never run: ${command}`,
        );
    });

    test(
      config.requiredReviewers.length > 0
        ? "a gated environment keeps its approval deadline: the run is cancelled when the canary expires unapproved"
        : "an ungated environment has no approval deadline",
      () => {
        const deadline = workflow.jobs["approval-deadline"];
        if (config.requiredReviewers.length === 0) {
          assert.equal(deadline, undefined);
          return;
        }
        assert.ok(deadline, "the approval-deadline job");
        assert.deepEqual(deadline.needs, ["canary"]);
        assert.equal(deadline.steps[0].env?.EXPIRES_AT, "${{ needs.canary.outputs.expires }}");
        assert.ok(deadline["timeout-minutes"]! > config.canaryLifetimeMinutes);
        assert.match(
          deadline.steps[0].run!,
          new RegExp(`^export PROMOTE_JOB="${promote.name!.replace(/[()]/g, "\\$&")}"$`, "m"),
        );
      },
    );
  });
}

test("the pipeline engine's workflow is unchanged by the setting's default: its smoke test and put-back are still there", () => {
  const { canary, promote } = deployFile(devLike()).jobs;
  assert.equal(devLike().canaryEngine, "pipeline");
  assert.ok(canary.steps.some((s) => s.run?.includes("kubectl scale deployment/orders-api-canary")));
  assert.ok(promote.steps.some((s) => s.name === "Put stable back on its previous image"));
  assert.ok(!JSON.stringify(deployFile(devLike())).includes("rollout/"));
});
