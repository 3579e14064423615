// shellcheck (Debian's, as actionlint runs it) on every script file of components/scripts/
// directly, each in the shell it runs in (the pods' scripts as POSIX sh: busybox in the curl image;
// the runners as bash), and on each script as it is rendered for every configuration of the workflow
// tests: the preamble of the catalogue's commands, the parameters, the file; the pods' scripts
// exactly as their containers run them, the runners as the workflow steps and `pulumi up` run them.
// actionlint sees only the workflows' `run:` blocks; the scripts inside pod manifests are checked
// here. No check is disabled, and a broken copy of a script yields a finding: the check can fail.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { restingSmokeTestSpec } from "../../components/cluster/canary-cluster";
import { withKubeconfig } from "../../components/cluster/post-deploy-smoke-test";
import { deployPlan } from "../../components/repository/workflows/deploy";
import { bakePod, bakeRunner, type BakeSpec } from "../../components/shared/canary-bake";
import { reaperScript } from "../../components/shared/canary-expiry";
import { clusterTargets } from "../../components/shared/cluster-operations";
import { rolloutWatchScript } from "../../components/shared/rollout-watch";
import { scriptFiles, scriptsFolder, type ScriptFile } from "../../components/shared/script-files";
import { smokeTestPod, smokeTestRunner } from "../../components/shared/smoke-test";
import { allConfigs } from "../components/repository/workflows/stack-configs";

type Shell = "sh" | "bash";

/** shellcheck's findings (gcc format, one a line) on a script's text, every check and severity on. */
function shellcheck(shell: Shell, text: string): string[] {
  const run = spawnSync("shellcheck", [`--shell=${shell}`, "--severity=style", "--format=gcc", "-"], {
    input: text,
    encoding: "utf8",
  });
  if (run.error) throw new Error(`shellcheck did not run (Debian: apt-get install shellcheck): ${run.error.message}`);
  assert.ok(run.status === 0 || run.status === 1, `shellcheck failed: ${run.stderr}`);
  return run.stdout.split("\n").filter(Boolean);
}

/** The script a pod runs: its container's `command: [/bin/sh, -c, script]`. */
function podScript(pod: Record<string, unknown>): string {
  const command = (pod as { spec: { containers: { command: string[] }[] } }).spec.containers[0].command;
  assert.deepEqual(command.slice(0, 2), ["/bin/sh", "-c"]);
  return command[2];
}

const fileText = (name: ScriptFile) => readFileSync(join(scriptsFolder, name), "utf8");

describe("shellcheck on each script file, in the shell it runs in", () => {
  for (const [name, shell] of Object.entries(scriptFiles) as [ScriptFile, Shell][]) {
    test(`${name} (${shell})`, () => {
      assert.deepEqual(shellcheck(shell, fileText(name)), []);
      assert.doesNotMatch(fileText(name), /shellcheck disable/, "no check disabled");
    });
  }
});

/** A bake window with analysis: queries holding quotes, `$`, backquotes and a newline, as a stack may give them. */
const analysed = (spec: BakeSpec): BakeSpec => ({
  ...spec,
  analysis: {
    prometheusUrl: "http://prometheus.monitoring.svc:9090/$x`y`",
    failureLimit: 1,
    metrics: [
      {
        name: "error-ratio",
        query: `sum(rate(http_requests_total{track="$track",code=~"5.."}[1m])) / sum(rate(http_requests_total{track='$track'}[1m]))`,
        max: 0.05,
      },
      {
        name: "p90",
        query: 'histogram_quantile(0.9, sum by (le) (rate(x_bucket{track="$track"}[1m])))\n`$(date)`',
        maxOverStable: 0.1,
      },
    ],
  },
});

for (const [label, config] of Object.entries(allConfigs())) {
  describe(`shellcheck on the scripts as rendered: ${label}`, () => {
    const plan = deployPlan(config);
    const o = plan.operations;
    const bake = plan.bake ? [plan.bake, analysed(plan.bake)] : [];
    const scripts: [string, Shell, string][] = [
      ["the smoke test's runner", "bash", smokeTestRunner(plan.smokeTest)],
      ["the smoke-test pod", "sh", podScript(smokeTestPod(plan.smokeTest))],
      ["`pulumi up`'s smoke test", "bash", withKubeconfig(smokeTestRunner(restingSmokeTestSpec(config)))],
      ["`pulumi up`'s smoke-test pod", "sh", podScript(smokeTestPod(restingSmokeTestSpec(config)))],
      ...bake.flatMap((b, i): [string, Shell, string][] => [
        [`the bake runner${i ? ", with analysis" : ""}`, "bash", bakeRunner(b)],
        [`the bake pod${i ? ", with analysis" : ""}`, "sh", podScript(bakePod(b))],
      ]),
      ["the canary reaper", "sh", reaperScript(clusterTargets(config))],
      [
        "the canary's rollout watch",
        "bash",
        rolloutWatchScript(o.canaryRollout, o.canaryStates, '"${IMAGE}@${DIGEST}"'),
      ],
      ["stable's rollout watch", "bash", rolloutWatchScript(o.stableRollout, o.stableStates, '"${IMAGE}@${DIGEST}"')],
    ];
    for (const [what, shell, text] of scripts)
      test(`${what} (${shell})`, () => assert.deepEqual(shellcheck(shell, text), []));
  });
}

describe("shellcheck reports broken scripts", () => {
  test("a broken copy of a pod's file: an unquoted expansion", () => {
    const broken = fileText("bake-pod.sh").replace(
      'check canary "$BAKE_CANARY_URL$probe"',
      "check canary $BAKE_CANARY_URL$probe",
    );
    assert.notEqual(broken, fileText("bake-pod.sh"));
    assert.ok(
      shellcheck("sh", broken).some((f) => /SC2086/.test(f)),
      shellcheck("sh", broken).join("\n"),
    );
  });
  test("a pod's script is POSIX sh: a bash test in it is a finding as sh, none as bash", () => {
    const broken = `${fileText("smoke-test-pod.sh")}\n[[ -n "$SMOKE_REQUESTS" ]] && echo more\n`;
    assert.ok(
      shellcheck("sh", broken).some((f) => /SC3010/.test(f)),
      shellcheck("sh", broken).join("\n"),
    );
    assert.deepEqual(shellcheck("bash", broken), []);
  });
  test("a broken rendered runner: a variable assigned and never used", () => {
    const t = clusterTargets({ appName: "orders-api", namespace: "orders" });
    const runner = smokeTestRunner({
      targets: t,
      podName: t.smokeTestPod,
      appName: "orders-api",
      paths: ["/healthz"],
      maxLatencySeconds: 1,
    });
    const broken = runner.replace('report="$(pod_logs)"', 'unused=1; report="$(pod_logs)"');
    assert.notEqual(broken, runner);
    assert.ok(
      shellcheck("bash", broken).some((f) => /SC2034/.test(f)),
      shellcheck("bash", broken).join("\n"),
    );
  });
});
