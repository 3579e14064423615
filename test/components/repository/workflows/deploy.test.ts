// The deploy workflow: its triggers, its job graph, its cluster operations (every kubectl comes
// from deployOperations and every operation is run), its summaries, and the OIDC subjects the
// roles must trust, read from the generated jobs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { canarySplit } from "../../../../components/shared/canary-split";
import { clusterTargets, operationList } from "../../../../components/shared/cluster-operations";
import {
  deployOperations,
  deployPlan,
  deployWorkflow,
  smokeTestSpec,
} from "../../../../components/repository/workflows/deploy";
import { trustSubjects } from "../../../../components/repository/workflows/model";
import {
  deployRoleVariable,
  pipelineWorkflows,
  previewRoleVariable,
} from "../../../../components/repository/workflows/pipeline";
import { smokeTestOperations } from "../../../../components/shared/smoke-test";
import { allConfigs, devLike, prodLike, renderedWorkflows, type ParsedJob, type ParsedWorkflow } from "./stack-configs";

const deployFile = (config = devLike()) =>
  renderedWorkflows(config).find((f) => f.path === `.github/workflows/deploy-${config.environment}.yml`)!;

/** Every job a job waits for, directly or not. */
function ancestors(workflow: ParsedWorkflow, id: string): Set<string> {
  const found = new Set<string>();
  const walk = (job: string) => {
    for (const n of workflow.jobs[job]?.needs ?? [])
      if (!found.has(n)) {
        found.add(n);
        walk(n);
      }
  };
  walk(id);
  return found;
}

/** What remains of a script once every operation's command is taken out of it. */
const withoutOperations = (script: string, commands: string[]) =>
  commands.reduce((rest, command) => rest.split(command).join("<op>"), script);

const runScripts = (workflow: ParsedWorkflow) =>
  Object.values(workflow.jobs).flatMap((j: ParsedJob) => j.steps.flatMap((s) => (s.run ? [s.run] : [])));

describe("triggers", () => {
  test("the first environment deploys pushes to the deploy branch, and by hand: the branch's head, or a rollback to a digest", () => {
    const { on, jobs } = deployFile().workflow;
    assert.deepEqual(on.push, { branches: ["main"] });
    assert.deepEqual((on.workflow_dispatch as { inputs: Record<string, unknown> }).inputs.digest, {
      description: "Roll back: a digest (sha256:…) dev released before. Empty: build and release main.",
      required: false,
      type: "string",
      default: "",
    });
    assert.equal(Object.keys(on).length, 2);
    // A rollback builds and scans nothing; the canary and promotion then take the given digest.
    assert.match(jobs.canary.if!, /needs\.build\.result == 'skipped' && inputs\.digest != ''/);
    assert.match(jobs.promote.if!, /needs\.scan\.result == 'skipped' && inputs\.digest != ''/);
    assert.equal(jobs.canary.steps[0].env?.ROLLBACK_DIGEST, "${{ inputs.digest }}");
  });
  test("a later environment is started by hand with a digest, and never builds", () => {
    const { workflow } = deployFile(prodLike());
    assert.deepEqual(Object.keys(workflow.on), ["workflow_dispatch"]);
    const inputs = (workflow.on.workflow_dispatch as { inputs: Record<string, unknown> }).inputs;
    assert.deepEqual(inputs.digest, {
      description: "Image digest (sha256:…) that dev released",
      required: true,
      type: "string",
    });
    assert.deepEqual(inputs.rollback, {
      description: "Roll back: allow a release older than the one stable runs",
      required: false,
      type: "boolean",
      default: "false",
    });
    // prodLike is gated: its approval deadline watches the promotion's wait.
    assert.deepEqual(Object.keys(workflow.jobs).sort(), ["approval-deadline", "canary", "promote", "rollback"]);
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
    assert.ok(!steps.some((s) => s.uses?.startsWith("docker/build-push-action@")), "no build");
    assert.deepEqual(
      workflow.jobs.canary.steps[0].env,
      { REQUESTED_DIGEST: "${{ inputs.digest }}", ROLLBACK_REQUESTED: "${{ inputs.rollback }}" },
      "the inputs reach scripts through env only",
    );
    // Unsigned, nothing vouches for the digest's release number: the environment's own runs number it.
    const unsigned = deployFile(allConfigs()["prod without signing"]).workflow.jobs.canary.steps[0];
    assert.equal(unsigned.env?.RUN_NUMBER, "${{ github.run_number }}");
    assert.match(unsigned.run!, /echo "RELEASE=\$RUN_NUMBER"/);
  });
  test("one deployment per environment at a time, never cancelled midway, and no queued run dropped (a rollback behind a push)", () => {
    for (const config of [devLike(), prodLike()]) {
      assert.deepEqual(deployFile(config).workflow.concurrency, {
        group: `deploy-${config.environment}`,
        "cancel-in-progress": false,
        // Without it GitHub keeps one pending run per group and cancels it for the next one.
        queue: "max",
      });
    }
  });
  test("a rollback dispatch builds, tests and scans nothing: each of those jobs runs only for a push or a dispatch without a digest", () => {
    const { jobs } = deployFile(devLike()).workflow;
    const releasesTheBranch = "github.event_name == 'push' || inputs.digest == ''";
    assert.equal(jobs.test.if, releasesTheBranch);
    assert.equal(jobs.build.if, `github.ref == 'refs/heads/main' && (${releasesTheBranch})`);
    // The scan has no if of its own: success() of the build it needs, skipped with it.
    assert.deepEqual([jobs.scan.needs, jobs.scan.if], [["build"], undefined]);
    assert.match(jobs.canary.if!, /needs\.build\.result == 'skipped' && inputs\.digest != ''/);
  });
});

describe("job graph", () => {
  test("first environment: test → build → canary → promote; the scan is off the canary's path but before promotion", () => {
    const { workflow } = deployFile();
    assert.deepEqual(workflow.jobs.build.needs, ["test"]);
    assert.deepEqual(workflow.jobs.scan.needs, ["build"]);
    assert.deepEqual(workflow.jobs.canary.needs, ["build"]);
    assert.ok(!ancestors(workflow, "canary").has("scan"), "the canary does not wait for the scan");
    assert.deepEqual([...ancestors(workflow, "promote")].sort(), ["build", "canary", "scan", "test"]);
  });
  test("promotion runs only after the whole canary job, smoke test included, succeeded", () => {
    for (const config of Object.values(allConfigs())) {
      const { workflow } = deployFile(config);
      const { canary, promote } = workflow.jobs;
      assert.ok(promote.needs?.includes("canary"));
      // No always(): a failed, cancelled or skipped canary is never promoted.
      if (config.promoteFrom) assert.equal(promote.if, undefined);
      else assert.match(promote.if!, /^!cancelled\(\) && needs\.canary\.result == 'success' && /);
      const smoke = canary.steps.findIndex((s) => s.name === "Smoke test");
      const deploy = canary.steps.findIndex((s) => s.id === "deploy");
      assert.ok(deploy >= 0 && smoke > deploy, "the smoke test runs after the deploy");
      assert.ok(
        canary.steps.every((s) => s["continue-on-error"] !== true),
        "no step may fail quietly",
      );
      assert.equal(canary.steps[smoke].if, undefined);
      assert.equal(canary.environment?.name, config.environment);
      assert.equal(promote.environment?.name, config.environment);
    }
  });
  test("a failed or cancelled canary is scaled back to 0, and Slack hears of it only when a webhook is configured", () => {
    for (const config of Object.values(allConfigs())) {
      const { canary } = deployFile(config).workflow.jobs;
      // A cancelled run (by hand, or a job's timeout) evaluates failure() as false.
      const onFailure = canary.steps.filter((s) => s.if?.startsWith("(failure() || cancelled())"));
      const t = clusterTargets(config);
      assert.ok(
        onFailure.some((s) => s.run?.includes(`kubectl scale deployment/${t.canaryDeployment} --replicas=0 `)),
        "rollback step",
      );
      const slack = onFailure.filter((s) => s.uses?.startsWith("slackapi/slack-github-action@"));
      assert.equal(slack.length, config.secrets.slackWebhook ? 1 : 0);
      if (slack[0]) assert.equal(slack[0].with?.webhook, "${{ secrets.SLACK_WEBHOOK }}");
    }
  });
  test("before deploying, the first environment verifies its build's signature; a later one what the environment before it released, by that workflow's exact identity", () => {
    for (const config of Object.values(allConfigs())) {
      const { canary, promote } = deployFile(config).workflow.jobs;
      const index = (text: string) => canary.steps.findIndex((s) => s.run?.includes(text) ?? false);
      const deploy = canary.steps.findIndex((s) => s.id === "deploy");
      const attest = promote.steps.findIndex((s) => s.run?.includes("cosign attest ") ?? false);
      if (!config.signImages) {
        assert.equal(index("cosign "), -1);
        assert.equal(attest, -1);
        continue;
      }
      const identity = (environment: string) =>
        `--certificate-identity 'https://github.com/${config.githubOwner}/${config.githubRepository}/.github/workflows/deploy-${environment}.yml@refs/heads/${config.deployBranch}'`;
      const attestation = index("cosign verify-attestation ");
      assert.ok(attestation >= 0 && attestation < deploy);
      assert.ok(canary.steps[attestation].run!.includes(identity(config.promoteFrom ?? config.environment)));
      assert.match(
        canary.steps[attestation].run!,
        /\.scan == "passed" and \.canary == "passed" and \.promotion == "succeeded"/,
      );
      if (config.promoteFrom) {
        assert.equal(
          index("cosign verify "),
          -1,
          "a later environment relies on the attestation, not the build's signature",
        );
        assert.equal(canary.steps[attestation].if, undefined);
      } else {
        const signature = index("cosign verify ");
        assert.ok(signature >= 0 && signature < deploy);
        assert.ok(canary.steps[signature].run!.includes(identity(config.environment)));
        assert.equal(
          canary.steps[attestation].if,
          "env.ROLLBACK == 'true'",
          "the first environment checks a rollback's release",
        );
      }
      // Every environment attests what it released, after the promotion.
      const promoted = promote.steps.findIndex((s) => s.id === "promote");
      assert.ok(attest > promoted);
      assert.match(promote.steps[attest].run!, /--type https:\/\/canary-pipeline\.dev\/release\/v1/);
    }
  });
  test("every way a run ends without a promotion runs the rollback job, in an environment without reviewers", () => {
    for (const config of Object.values(allConfigs())) {
      const { rollback, promote } = deployFile(config).workflow.jobs;
      assert.equal(rollback.if, "always() && needs.canary.result != 'skipped' && needs.promote.result != 'success'");
      assert.ok(rollback.needs?.includes("canary") && rollback.needs.includes("promote"));
      assert.equal(rollback.environment?.name, `${config.environment}-rollback`);
      assert.notEqual(rollback.environment?.name, promote.environment?.name);
      const t = clusterTargets(config);
      const scripts = rollback.steps.flatMap((s) => (s.run?.includes("kubectl") ? [s.run] : []));
      // Only this run's canary, and only if unchanged since read: a re-run must not retire a newer run's.
      assert.equal(scripts.length, 1);
      assert.match(scripts[0], /^read_canary_state\(\) \{ kubectl get deployment\/\S+-canary /);
      assert.ok(
        scripts[0].includes(
          `kubectl scale deployment/${t.canaryDeployment} --replicas=0 --resource-version="$1" --namespace ${t.namespace}`,
        ),
      );
      assert.match(scripts[0], /if \[ "\$run" != "\$GITHUB_RUN_ID" \]; then/);
      const slack = rollback.steps.filter((s) => s.uses?.startsWith("slackapi/slack-github-action@"));
      assert.equal(slack.length, config.secrets.slackWebhook ? 1 : 0, "Slack hears of it when a webhook is configured");
    }
  });
  test("a failed or cancelled promotion puts stable back on the image recorded before it", () => {
    const { promote } = deployFile(prodLike()).workflow.jobs;
    const names = promote.steps.map((s) => s.name);
    assert.ok(names.indexOf("Record stable's image") < names.indexOf("Promote the digest to stable"));
    const back = promote.steps.find((s) => s.name === "Put stable back on its previous image")!;
    assert.equal(
      back.if,
      "(failure() || cancelled()) && (steps.promote.outcome == 'failure' || steps.promote.outcome == 'cancelled')",
    );
    assert.match(back.run!, /kubectl set image deployment\/orders-api orders-api="\$PREVIOUS_IMAGE"/);
  });
  test("rollouts wait as long as the replicas, probes and minReadySeconds need, and the jobs' limits follow", () => {
    const config = prodLike();
    const { canary, promote } = deployFile(config).workflow.jobs;
    const perPod = 60 + config.startupSeconds + 5 + 2 + config.minReadySeconds;
    assert.match(
      canary.steps.find((s) => s.id === "deploy")!.run!,
      new RegExp(`rollout status deployment/orders-api-canary --timeout=${perPod + 30}s`),
    );
    assert.match(
      promote.steps.find((s) => s.id === "promote")!.run!,
      new RegExp(`rollout status deployment/orders-api --timeout=${config.replicas * perPod + 30}s`),
    );
    const back = promote.steps.find((s) => s.name === "Put stable back on its previous image")!;
    assert.ok(
      promote["timeout-minutes"]! * 60 >= config.replicas * perPod + 30 + back["timeout-minutes"]! * 60,
      "room for the rollout and the put-back",
    );
  });
  test("what runs after a cancellation ends within GitHub's 5 minutes: each clean-up step, and the rollback job, bounded", () => {
    for (const [label, config] of Object.entries(allConfigs())) {
      const { canary, promote, rollback } = deployFile(config).workflow.jobs;
      const cleanup = (job: typeof canary) =>
        job.steps.filter(
          (s) => s.if !== undefined && /cancelled\(\)|always\(\)/.test(s.if) && s.run?.includes("kubectl"),
        );
      for (const step of [...cleanup(canary), ...cleanup(promote), ...cleanup(rollback)])
        assert.ok(step["timeout-minutes"] !== undefined && step["timeout-minutes"] <= 2, `${label}: ${step.name}`);
      const slowest = Math.max(...[...cleanup(canary), ...cleanup(promote)].map((s) => s["timeout-minutes"]!));
      // The cancelled job's clean-up, then the rollback job, whole: one minute is left for a runner.
      assert.ok(slowest + rollback["timeout-minutes"]! <= 4, `${label}: ${slowest} + ${rollback["timeout-minutes"]}`);
      const back = promote.steps.find((s) => s.name === "Put stable back on its previous image")!;
      assert.match(
        back.run!,
        /rollout status deployment\/\S+ --timeout=90s /,
        "the wait for stable's rollout back is cut short",
      );
    }
  });
  test("every AWS session outlives the longest job that uses it", () => {
    for (const [label, config] of Object.entries(allConfigs())) {
      if (config.clusterAuth !== "eks") continue;
      for (const job of Object.values(deployFile(config).workflow.jobs)) {
        const assume = job.steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
        if (assume === undefined) continue;
        const seconds = Number(assume.with?.["role-duration-seconds"]);
        assert.ok(seconds >= job["timeout-minutes"]! * 60, `${label}: ${job.name}: ${seconds} s`);
        assert.ok(deployPlan(config).sessionSeconds.roles >= seconds, `${label}: the roles allow ${seconds} s`);
      }
    }
  });
  test("a gated environment's approval cannot hold the deploy lock past the canary's lifetime", () => {
    const config = prodLike();
    assert.ok(config.requiredReviewers.length > 0);
    const { jobs } = deployFile(config).workflow;
    const deadline = jobs["approval-deadline"];
    assert.deepEqual(deadline.needs, ["canary"]);
    assert.deepEqual(deadline.permissions, { actions: "write" });
    assert.equal(deadline.environment, undefined, "no environment, no secret");
    assert.ok(deadline["timeout-minutes"]! > config.canaryLifetimeMinutes);
    assert.equal(deadline.steps[0].env?.EXPIRES_AT, "${{ needs.canary.outputs.expires }}");
    assert.match(deadline.steps[0].run!, /^export PROMOTE_JOB="Promote \(prod\)"$/m);
    assert.equal(jobs.promote.name, "Promote (prod)");
    assert.equal(
      deployFile(devLike()).workflow.jobs["approval-deadline"],
      undefined,
      "an ungated promotion does not wait",
    );
  });
});

describe("cluster operations", () => {
  test("every kubectl in a run: script comes from deployOperations, and every operation is run", () => {
    for (const [label, config] of Object.entries(allConfigs())) {
      const commands = deployOperations(config).map((o) => o.command);
      const scripts = runScripts(deployFile(config).workflow);
      for (const script of scripts) {
        assert.doesNotMatch(
          withoutOperations(script, commands),
          /\bkubectl\b/,
          `${label}: a hand-written kubectl in\n${script}`,
        );
      }
      for (const command of commands)
        assert.ok(
          scripts.some((s) => s.includes(command)),
          `${label}: ${command} is never run`,
        );
    }
  });
  test("the check would catch a hand-written kubectl", () => {
    const commands = deployOperations(devLike()).map((o) => o.command);
    assert.match(withoutOperations(`${commands[0]}\nkubectl delete deployment orders-api`, commands), /\bkubectl\b/);
  });
  test("the operations: canary by digest at its split, pod images, the smoke test, stable, canary back to 0", () => {
    const config = prodLike();
    const t = clusterTargets(config);
    const commands = deployOperations(config).map((o) => o.command);
    const replicas = canarySplit(config.replicas, config.canaryWeight).canaryReplicas;
    assert.equal(replicas, 2);
    assert.ok(
      commands.includes(
        `kubectl set image deployment/${t.canaryDeployment} ${t.container}="\${IMAGE}@\${DIGEST}" --namespace orders`,
      ),
    );
    assert.ok(
      commands.includes(
        `kubectl set image deployment/${t.stableDeployment} ${t.container}="\${IMAGE}@\${DIGEST}" --namespace orders`,
      ),
    );
    assert.ok(
      commands.includes(`kubectl scale deployment/${t.canaryDeployment} --replicas=${replicas} --namespace orders`),
    );
    assert.ok(commands.includes(`kubectl scale deployment/${t.canaryDeployment} --replicas=0 --namespace orders`));
    for (const op of operationList(smokeTestOperations(smokeTestSpec(config))))
      assert.ok(commands.includes(op.command), op.description);
    const keys = deployOperations(config).map((o) => `${o.command} ${o.createsPod?.name ?? ""}`);
    assert.equal(new Set(keys).size, keys.length, "each once");
    // The smoke test's and the bake's pods are created by one command line: both are kept, for the
    // admission policy that admits exactly the pods the operations create.
    assert.deepEqual(
      deployOperations(config).flatMap((o) => (o.createsPod ? [o.createsPod.name] : [])),
      [t.smokeTestPod, t.bakePod],
    );
  });
});

describe("summaries", () => {
  test("each deploy job writes to the step summary: digest, promotion, rollback", () => {
    const { workflow } = deployFile();
    for (const [id, job] of Object.entries(workflow.jobs).filter(([id]) => id !== "test")) {
      assert.ok(
        job.steps.some((s) => s.run?.includes("$GITHUB_STEP_SUMMARY")),
        `${id} writes a summary`,
      );
    }
    const text = (id: string) => workflow.jobs[id].steps.map((s) => s.run ?? "").join("\n");
    assert.match(text("build"), /digest: .*\$\{DIGEST\}/);
    assert.match(text("canary"), /### Smoke test/);
    // canary-retire.sh writes `### <SUMMARY_TITLE>`.
    assert.match(text("canary"), /^SUMMARY_TITLE="Rolled back in dev"$/m);
    assert.match(text("promote"), /### Promoted in dev/);
    assert.match(text("promote"), /### Promotion failed in dev/);
    assert.match(text("rollback"), /^SUMMARY_TITLE="Rolled back in dev"$/m);
    assert.match(
      text("rollback"),
      /printf '### %s\\n- canary deployment\/%s: %s; stable keeps its image\\n' "\$SUMMARY_TITLE"/,
    );
  });
});

describe("what the roles must trust", () => {
  const repository = { owner: "acme", name: "orders-api" };
  test("the deploy role: the environment's jobs only", () => {
    assert.deepEqual(trustSubjects(pipelineWorkflows(devLike()), deployRoleVariable, repository), [
      "repo:acme/orders-api:environment:dev",
    ]);
    assert.deepEqual(trustSubjects(pipelineWorkflows(prodLike()), deployRoleVariable, repository), [
      "repo:acme/orders-api:environment:prod",
    ]);
  });
  test("a stack's preview role: its pull-request preview and its drift check, each in its own environment", () => {
    for (const config of [devLike(), prodLike()]) {
      assert.deepEqual(trustSubjects(pipelineWorkflows(config), previewRoleVariable(config.stack), repository), [
        `repo:acme/orders-api:environment:${config.stack}-drift`,
        `repo:acme/orders-api:environment:${config.stack}-preview`,
      ]);
    }
    assert.deepEqual(trustSubjects(pipelineWorkflows(devLike()), previewRoleVariable("staging"), repository), []);
  });
  test("token mode assumes no deploy role", () => {
    const config = allConfigs()["dev token mode"];
    assert.deepEqual(trustSubjects(pipelineWorkflows(config), deployRoleVariable, repository), []);
    const steps = Object.values(deployWorkflow(config).workflow.jobs).flatMap((j) => j.steps);
    assert.ok(
      steps.some((s) => s.env?.KUBECONFIG_DATA === "${{ secrets.KUBECONFIG }}" && s.run?.includes("umask 077")),
    );
  });
  test("preview role variables name the stack", () => {
    assert.equal(previewRoleVariable("prod"), "AWS_PREVIEW_ROLE_ARN_PROD");
    assert.equal(previewRoleVariable("acme/orders/prod-eu"), "AWS_PREVIEW_ROLE_ARN_ACME_ORDERS_PROD_EU");
  });
});

describe("which files a stack commits", () => {
  test("the deploy workflow always; ci.yml with manageRepoWorkflows; with a backend, infra-preview.yml with manageRepoWorkflows and the stack's drift check", () => {
    const commits = (config: ReturnType<typeof devLike>) =>
      pipelineWorkflows(config)
        .filter((f) => f.commit)
        .map((f) => f.path);
    assert.deepEqual(commits(devLike()), [
      ".github/workflows/deploy-dev.yml",
      ".github/workflows/ci.yml",
      ".github/workflows/infra-preview.yml",
      ".github/workflows/drift-dev.yml",
    ]);
    assert.deepEqual(commits(prodLike()), [".github/workflows/deploy-prod.yml", ".github/workflows/drift-prod.yml"]);
    assert.deepEqual(commits({ ...prodLike(), driftSchedule: "off" }), [".github/workflows/deploy-prod.yml"]);
    // Without a backend neither preview workflow exists, committed or not: no role trusts them.
    const withoutBackend = { ...devLike(), pulumiBackendUrl: undefined };
    assert.deepEqual(
      pipelineWorkflows(withoutBackend).map((f) => f.path),
      [".github/workflows/deploy-dev.yml", ".github/workflows/ci.yml"],
    );
  });
});
