// The rollout watch, run for real with bash as the deploy steps run it (`-eo pipefail`), with a
// kubectl stand-in on PATH: `rollout status` takes $ROLLOUT_SECONDS and exits $ROLLOUT_EXIT, `get
// pods` prints $POD_STATES. It passes with the rollout, and fails at once, stopping the rollout's
// command, when a pod of the new image crash-loops, cannot pull its image or restarted.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { clusterOperations, clusterTargets } from "../../../components/shared/cluster-operations";
import { hopelessReasons, rolloutCheckSeconds, rolloutWatchScript } from "../../../components/shared/rollout-watch";
import { operationPreamble, scriptsFolder, scriptText } from "../../../components/shared/script-files";

const t = clusterTargets({ appName: "orders-api", namespace: "orders" });
const rollout = clusterOperations.rolloutStatus(t, t.canaryDeployment, "300s");
const states = clusterOperations.podStates(t, t.canarySelector);
const image = "ghcr.io/acme/orders-api@sha256:1111";
const old = "ghcr.io/acme/orders-api@sha256:0000";

interface Run {
  status: number | null;
  stdout: string;
  seconds: number;
  calls: string[];
  rolloutLeft: boolean;
}

async function watch(o: {
  states: string;
  rolloutSeconds?: number;
  rolloutExit?: number;
  script?: string;
  env?: Record<string, string>;
}): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), "rollout-watch-"));
  // The rollout's stand-in becomes one process that waits and exits (exec), as kubectl is one, its pid recorded.
  const wait = "setTimeout(() => process.exit(Number(process.argv[2])), 1000 * Number(process.argv[1]))";
  writeFileSync(
    join(dir, "kubectl"),
    [
      "#!/bin/sh",
      `printf '%s\\n' "kubectl $*" >> "${dir}/calls"`,
      `case "$1" in`,
      `  rollout) echo $$ > "${dir}/rollout.pid"; exec "${process.execPath}" -e '${wait}' "$ROLLOUT_SECONDS" "$ROLLOUT_EXIT" ;;`,
      `  get) if [ -n "\${GET_FAILS_ONCE:-}" ] && [ ! -e "${dir}/failed" ]; then touch "${dir}/failed"; echo "Unable to connect to the server" >&2; exit 1; fi; printf '%s\\n' "$POD_STATES" ;;`,
      "esac",
    ].join("\n"),
    { mode: 0o755 },
  );
  const env = {
    PATH: `${dir}:${process.env.PATH}`,
    IMAGE: image,
    POD_STATES: o.states,
    ROLLOUT_SECONDS: String(o.rolloutSeconds ?? 1),
    ROLLOUT_EXIT: String(o.rolloutExit ?? 0),
    ...o.env,
  };
  const started = Date.now();
  const child = spawn(
    "bash",
    ["--noprofile", "--norc", "-eo", "pipefail", "-c", o.script ?? rolloutWatchScript(rollout, states, '"$IMAGE"')],
    { env },
  );
  let stdout = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  // "close": every holder of its output is gone, the rollout's command included.
  const status = await new Promise<number | null>((resolve) => child.once("close", resolve));
  const pidFile = join(dir, "rollout.pid");
  // Alive: a process that is not a zombie (a killed orphan's entry stays until init reaps it).
  const stat = existsSync(pidFile) ? `/proc/${readFileSync(pidFile, "utf8").trim()}/stat` : "";
  const rolloutLeft = stat !== "" && existsSync(stat) && !/^\d+ \(.*\) Z/.test(readFileSync(stat, "utf8"));
  const calls = existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8").trim().split("\n") : [];
  return { status, stdout, seconds: (Date.now() - started) / 1000, calls, rolloutLeft };
}

describe("the rollout watch", () => {
  test("passes with the rollout while the new image's pods start, whatever the old ones do", async () => {
    const r = await watch({ states: `p1|${image}|ContainerCreating|0|False\np0|${old}|CrashLoopBackOff|4|False` });
    assert.equal(r.status, 0, r.stdout);
    assert.ok(
      r.calls.includes("kubectl rollout status deployment/orders-api-canary --timeout=300s --namespace orders"),
      r.calls.join("\n"),
    );
    assert.ok(
      r.calls.some((c) => c.startsWith("kubectl get pods --selector app=orders-api,track=canary --namespace orders")),
    );
  });

  for (const [what, line, why] of [
    ["a crash loop", `p1|${image}|CrashLoopBackOff|2|False`, "p1: CrashLoopBackOff"],
    ["an image that cannot be pulled", `p1|${image}|ImagePullBackOff|0|False`, "p1: ImagePullBackOff"],
    ["a restart", `p1|${image}||2|True`, "p1: restarted 2 time(s)"],
  ] as const) {
    test(`${what} of the new image fails it at once and stops the rollout's command`, async () => {
      const r = await watch({ states: `p0|${old}||0|True\n${line}`, rolloutSeconds: 60 });
      assert.equal(r.status, 1, r.stdout);
      assert.match(
        r.stdout,
        new RegExp(`::error::pods of the new image will not become ready: ${why.replace(/[()]/g, "\\$&")}`),
      );
      assert.ok(r.seconds < 10, `${r.seconds} s: not the rollout's 60`);
      assert.equal(r.rolloutLeft, false, "the rollout's command is gone");
    });
  }

  test("every hopeless reason is one", async () => {
    for (const reason of hopelessReasons) {
      const r = await watch({ states: `p1|${image}|${reason}|0|False`, rolloutSeconds: 30 });
      assert.equal(r.status, 1, `${reason}: ${r.stdout}`);
    }
  });

  // The file with the catalogue's preamble, its parameters in its environment (looks 0.1 s apart).
  const file = `${operationPreamble({ rolloutStatus: rollout, podStates: states })}\n. "${join(scriptsFolder, "retrying.sh")}"\n. "${join(scriptsFolder, "rollout-watch.sh")}"`;
  const parameters = { ROLLOUT_IMAGE: image, HOPELESS_REASONS: "Oops|Other", ROLLOUT_CHECK_SECONDS: "0.1" };

  test("the file: the reasons are its parameter; a reason not listed, one that resolves itself, is none; a rollout that fails fails it", async () => {
    const listed = await watch({
      script: file,
      states: `p1|${image}|Oops|0|False`,
      rolloutSeconds: 30,
      env: parameters,
    });
    assert.equal(listed.status, 1, listed.stdout);
    assert.match(listed.stdout, /will not become ready: p1: Oops/);
    const unlisted = await watch({ script: file, states: `p1|${image}|ContainerCreating|0|False`, env: parameters });
    assert.equal(unlisted.status, 0, unlisted.stdout);
    const failed = await watch({ script: file, states: `p1|${image}||0|False`, rolloutExit: 1, env: parameters });
    assert.equal(failed.status, 1, failed.stdout);
  });

  test("one failed read of the pods is tried again and does not fail a healthy rollout", async () => {
    const r = await watch({
      states: `p1|${image}||0|True`,
      rolloutSeconds: 4,
      env: { GET_FAILS_ONCE: "1" },
    });
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /retrying after a failed read \(attempt 1 of 3\): pod_states/);
  });

  test("the file stops without a parameter, naming it, before it starts anything", async () => {
    for (const name of Object.keys(parameters)) {
      const r = await watch({
        script: file,
        states: "",
        env: Object.fromEntries(Object.entries(parameters).filter(([k]) => k !== name)),
      });
      assert.notEqual(r.status, 0, name);
      assert.match(r.stdout, new RegExp(`${name}: `), name);
      assert.deepEqual(r.calls, [], name);
    }
  });

  test("as rendered: the preamble, the image as the step's shell sees it, the reasons, then the file", () => {
    const script = rolloutWatchScript(rollout, states, '"${IMAGE}@${DIGEST}"');
    assert.ok(
      script.startsWith(
        `rollout_status() { ${rollout.command}; }\npod_states() { ${states.command}; }\nROLLOUT_IMAGE="\${IMAGE}@\${DIGEST}"\nHOPELESS_REASONS="${hopelessReasons.join("|")}"\nROLLOUT_CHECK_SECONDS=${rolloutCheckSeconds}\n`,
      ),
      script,
    );
    assert.ok(script.endsWith(`${scriptText("retrying.sh").trimEnd()}\n${scriptText("rollout-watch.sh").trimEnd()}`));
  });
});
