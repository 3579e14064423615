// The smoke test's two scripts, run for real: the pod's script with curl against a local server
// (every cluster host name routed to it through curl's own config), and the runner with a
// kubectl stand-in on PATH that records each call and answers with a report; each as rendered
// (parameters, preamble, file) and each file on its own, its parameters in its environment.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { clusterTargets, operationList } from "../../../components/shared/cluster-operations";
import { operationPreamble, scriptsFolder } from "../../../components/shared/script-files";
import {
  smokeTestOperations,
  smokeTestPod,
  smokeTestPodParameters,
  smokeTestPodScript,
  smokeTestRunner,
  smokeTestWaitSeconds,
  type SmokeTestSpec,
} from "../../../components/shared/smoke-test";

const run = promisify(execFile);
const targets = clusterTargets({ appName: "orders-api", namespace: "orders" });
const spec = (paths: string[], maxLatencySeconds = 0.5): SmokeTestSpec => ({
  targets,
  podName: targets.smokeTestPod,
  appName: "orders-api",
  paths,
  maxLatencySeconds,
  requestsPerPath: 2,
});

describe("the pod's script", () => {
  let server: Server;
  let curlHome: string;
  const seen: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.headers.host} ${req.url}`);
      if (req.url === "/broken") res.writeHead(500).end();
      else if (req.url === "/slow") setTimeout(() => res.writeHead(200).end("ok"), 400);
      else res.writeHead(200).end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    curlHome = mkdtempSync(join(tmpdir(), "curl-"));
    writeFileSync(join(curlHome, ".curlrc"), `connect-to = "::127.0.0.1:${(server.address() as AddressInfo).port}"\n`);
  });
  after(() => server.close());
  const runPod = async (s: SmokeTestSpec) =>
    (await run("sh", ["-c", smokeTestPodScript(s)], { env: { ...process.env, CURL_HOME: curlHome } })).stdout
      .trim()
      .split("\n");

  test("every request to every path goes through both Services and passes", async () => {
    seen.length = 0;
    const lines = await runPod(spec(["/healthz", "/v1/orders?limit=1"]));
    assert.equal(lines.at(-1), "RESULT pass");
    assert.equal(lines.filter((l) => l.startsWith("PASS canary 200 ")).length, 4);
    assert.equal(lines.filter((l) => l.startsWith("PASS main 200 ")).length, 4);
    assert.ok(seen.includes("orders-api-canary.orders.svc.cluster.local /v1/orders?limit=1"), seen.join(", "));
    assert.ok(seen.includes("orders-api.orders.svc.cluster.local /healthz"));
  });
  test("a non-200 answer fails", async () => {
    const lines = await runPod(spec(["/healthz", "/broken"]));
    assert.ok(
      lines.some((l) =>
        /^FAIL canary 500 \S+s http:\/\/orders-api-canary\.orders\.svc\.cluster\.local:80\/broken$/.test(l),
      ),
      lines.join("\n"),
    );
    assert.equal(lines.at(-1), "RESULT fail");
  });
  test("a slow answer fails even with status 200", async () => {
    const lines = await runPod(spec(["/slow"], 0.2));
    assert.ok(
      lines.some((l) => /^FAIL canary 200 0\.[4-9]/.test(l)),
      lines.join("\n"),
    );
    assert.equal(lines.at(-1), "RESULT fail");
  });

  // The file on its own: components/scripts/pod-functions.sh, then smoke-test-pod.sh, with sh (not
  // synchronously: the server answers from this process).
  const podFile = async (env: Record<string, string>) => {
    const cwd = mkdtempSync(join(tmpdir(), "smoke-pod-"));
    const files = [join(scriptsFolder, "pod-functions.sh"), join(scriptsFolder, "smoke-test-pod.sh")];
    return run("sh", ["-c", '. "$1"; . "$2"', "sh", ...files], {
      cwd,
      env: { PATH: process.env.PATH, CURL_HOME: curlHome, ...env },
    }).then(
      ({ stdout, stderr }) => ({ status: 0, stdout, stderr, cwd }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        status: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
        cwd,
      }),
    );
  };
  // Quotes, a command substitution, a command separator, backquotes: any of them would run if evaluated (no space: curl refuses one).
  const odd = "/v1/orders?q='a'&x=$(id>evaluated);id>evaluated2`id>evaluated3`\"d\"";
  const fileParameters = {
    SMOKE_REQUESTS: "2",
    SMOKE_TARGETS: "2",
    SMOKE_TARGET_1_SERVICE: "canary",
    SMOKE_TARGET_1_URL: "http://orders-api-canary.orders.svc.cluster.local:80/healthz",
    SMOKE_TARGET_2_SERVICE: "main",
    SMOKE_TARGET_2_URL: `http://orders-api.orders.svc.cluster.local:80${odd}`,
    MAX_LATENCY_SECONDS: "1",
    REQUEST_TIMEOUT_SECONDS: "2",
  };

  test("the file, its parameters in its environment: each target its number of times, values read and never evaluated", async () => {
    seen.length = 0;
    const r = await podFile(fileParameters);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.deepEqual(
      lines.map((l) => l.split(" ").slice(0, 3).join(" ")),
      ["PASS canary 200", "PASS canary 200", "PASS main 200", "PASS main 200", "RESULT pass"],
    );
    assert.ok(lines[2].endsWith(` http://orders-api.orders.svc.cluster.local:80${odd}`), lines[2]);
    assert.equal(seen.length, 4);
    assert.deepEqual(readdirSync(r.cwd), [], "nothing of a value ran");
  });
  test("the file stops on a parameter that is not set, naming it", async () => {
    const without = (name: string) => Object.fromEntries(Object.entries(fileParameters).filter(([k]) => k !== name));
    const withoutUrl = without("SMOKE_TARGET_2_URL");
    const missing = await podFile(withoutUrl);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /SMOKE_TARGET_2_URL is not set/);
    const withoutRequests = without("SMOKE_REQUESTS");
    const none = await podFile(withoutRequests);
    assert.notEqual(none.status, 0);
    assert.match(none.stderr, /SMOKE_REQUESTS: requests per target/);
    assert.equal(none.stdout, "", "no request made");
  });
  test("the parameters of a spec are the file's: both Services' targets, canary first, each path in order", () => {
    const p = smokeTestPodParameters(spec(["/healthz", "/v1/orders?limit=1"]));
    assert.deepEqual(p, {
      SMOKE_REQUESTS: 2,
      SMOKE_TARGETS: 4,
      SMOKE_TARGET_1_SERVICE: "canary",
      SMOKE_TARGET_1_URL: "http://orders-api-canary.orders.svc.cluster.local:80/healthz",
      SMOKE_TARGET_2_SERVICE: "canary",
      SMOKE_TARGET_2_URL: "http://orders-api-canary.orders.svc.cluster.local:80/v1/orders?limit=1",
      SMOKE_TARGET_3_SERVICE: "main",
      SMOKE_TARGET_3_URL: "http://orders-api.orders.svc.cluster.local:80/healthz",
      SMOKE_TARGET_4_SERVICE: "main",
      SMOKE_TARGET_4_URL: "http://orders-api.orders.svc.cluster.local:80/v1/orders?limit=1",
      MAX_LATENCY_SECONDS: 0.5,
      REQUEST_TIMEOUT_SECONDS: 2,
    });
  });
});

describe("the runner", () => {
  // A kubectl stand-in: records its arguments; `create` keeps the manifest it is given (created.json);
  // `logs` prints the report in $REPORT; `get` prints the pod's phase while it exists (from its create
  // to its delete): $POD_PHASE, default Succeeded.
  function fakeKubectl(): { bin: string; calls: string } {
    const bin = mkdtempSync(join(tmpdir(), "kubectl-"));
    const calls = join(bin, "calls");
    writeFileSync(
      join(bin, "kubectl"),
      [
        "#!/bin/sh",
        `echo "kubectl $*" >> "${calls}"`,
        `case "$1" in logs) printf '%s\\n' "$REPORT";; create) cat "$3" > "${join(bin, "created.json")}"; touch "${join(bin, "exists")}";; delete) rm -f "${join(bin, "exists")}";; get) if [ -e "${join(bin, "exists")}" ]; then printf '%s' "\${POD_PHASE:-Succeeded}"; fi;; esac`,
      ].join("\n"),
    );
    chmodSync(join(bin, "kubectl"), 0o755);
    return { bin, calls };
  }
  const runner = async (report: string) => {
    const { bin, calls } = fakeKubectl();
    const summary = join(bin, "summary.md");
    writeFileSync(summary, "");
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, REPORT: report, GITHUB_STEP_SUMMARY: summary };
    const result = await run("bash", ["-c", smokeTestRunner(spec(["/healthz"]))], { env }).then(
      () => 0,
      (e: { code: number }) => e.code,
    );
    return {
      code: result,
      calls: readFileSync(calls, "utf8").trim().split("\n"),
      summary: readFileSync(summary, "utf8"),
    };
  };

  test("runs exactly the catalogue's operations, and passes on a passing report", async () => {
    const { code, calls, summary } = await runner("PASS canary 200 0.01s http://x/healthz\nRESULT pass");
    assert.equal(code, 0);
    const [remove, create, phase, logs] = operationList(smokeTestOperations(spec(["/healthz"]))).map((o) =>
      o.command.split(" ").slice(0, 3).join(" "),
    );
    assert.deepEqual(
      calls.map((c) => c.split(" ").slice(0, 3).join(" ")),
      [remove, phase, create, phase, logs, remove],
      "delete, the phase until it is gone, create, the phase until it has finished, logs, then delete on exit",
    );
    assert.match(summary, /\| PASS \| canary \| 200 \| 0.01s \|/);
  });
  test("creates the pod from the manifest it writes: the smoke-test pod, as rendered", async () => {
    const { bin } = fakeKubectl();
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, REPORT: "RESULT pass", GITHUB_STEP_SUMMARY: "" };
    await run("bash", ["-c", smokeTestRunner(spec(["/healthz"]))], { env });
    assert.deepEqual(JSON.parse(readFileSync(join(bin, "created.json"), "utf8")), smokeTestPod(spec(["/healthz"])));
  });
  test("the file with the catalogue's preamble: the manifest's file is its parameter; without it, no command runs", () => {
    const { bin, calls } = fakeKubectl();
    const manifest = join(bin, "pod.json");
    writeFileSync(manifest, "{}");
    const file = (env: Record<string, string>) =>
      spawnSync(
        "bash",
        [
          "-c",
          `${operationPreamble(smokeTestOperations(spec(["/healthz"])))}\n. "$1"\n. "$2"`,
          "bash",
          join(scriptsFolder, "pod-wait.sh"),
          join(scriptsFolder, "smoke-test-runner.sh"),
        ],
        {
          encoding: "utf8",
          env: { PATH: `${bin}:${process.env.PATH}`, REPORT: "RESULT pass", POD_WAIT_SECONDS: "10", ...env },
        },
      );
    const missing = file({});
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /SMOKE_POD_MANIFEST: the file of the pod manifest/);
    assert.equal(existsSync(calls), false, "no kubectl call");
    const given = file({ SMOKE_POD_MANIFEST: manifest });
    assert.equal(given.status, 0, given.stderr);
    assert.ok(readFileSync(calls, "utf8").includes(`kubectl create --filename ${manifest} --namespace orders\n`));
  });
  test("a pod that failed (crashed, or past its deadline) fails the test at once, not at the wait's timeout", () => {
    const { bin, calls } = fakeKubectl();
    const started = Date.now();
    const result = spawnSync("bash", ["-c", smokeTestRunner(spec(["/healthz"]))], {
      encoding: "utf8",
      env: { PATH: `${bin}:${process.env.PATH}`, REPORT: "RESULT pass", POD_PHASE: "Failed" },
    });
    assert.equal(result.status, 1);
    assert.match(result.stdout, /smoke test pod did not finish/);
    assert.match(result.stderr, /the pod failed/);
    assert.ok(
      Date.now() - started < 10_000,
      `${Date.now() - started} ms, the wait is ${smokeTestWaitSeconds(spec(["/healthz"]))} s`,
    );
    assert.match(readFileSync(calls, "utf8").trim().split("\n").at(-1)!, /^kubectl delete pod\/orders-api-smoke-test/);
  });
  test("fails on a failing report, and still removes the pod", async () => {
    const { code, calls } = await runner("FAIL canary 500 0.01s http://x/healthz\nRESULT fail");
    assert.notEqual(code, 0);
    assert.match(calls.at(-1)!, /^kubectl delete pod\/orders-api-smoke-test/);
  });
});

test("the smoke-test pod is hardened for the restricted profile", () => {
  const pod = smokeTestPod(spec(["/healthz"])) as {
    spec: {
      automountServiceAccountToken: boolean;
      securityContext: Record<string, unknown>;
      containers: { image: string; securityContext: Record<string, unknown> }[];
    };
  };
  assert.equal(pod.spec.automountServiceAccountToken, false);
  assert.deepEqual(pod.spec.securityContext.seccompProfile, { type: "RuntimeDefault" });
  assert.equal(pod.spec.securityContext.runAsNonRoot, true);
  for (const c of pod.spec.containers) {
    assert.match(c.image, /@sha256:[a-f0-9]{64}$/);
    assert.deepEqual(c.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
  }
});

test("the pod's deadline covers every request at its cut-off, and the wait outlasts the deadline", () => {
  const s = spec(["/a", "/b"], 1.5);
  const pod = smokeTestPod(s) as { spec: { activeDeadlineSeconds: number; containers: { command: string[] }[] } };
  assert.match(pod.spec.containers[0].command[2], /^export REQUEST_TIMEOUT_SECONDS=3$/m);
  assert.match(pod.spec.containers[0].command[2], /--max-time "\$REQUEST_TIMEOUT_SECONDS" /);
  assert.equal(pod.spec.activeDeadlineSeconds, 2 * 2 * 2 * 3 + 30);
  assert.match(smokeTestRunner(s), /^POD_WAIT_SECONDS=84$/m);
  assert.match(smokeTestOperations(s).podPhase.command, /\{\.status\.phase\}/);
});

test("a test through the main Service only requests no canary host", () => {
  const script = smokeTestPodScript({ ...spec(["/healthz"]), through: ["main"] });
  assert.doesNotMatch(script, /orders-api-canary/);
  assert.match(
    script,
    /^export SMOKE_TARGETS=1\nexport SMOKE_TARGET_1_SERVICE=main\nexport SMOKE_TARGET_1_URL="http:\/\/orders-api\.orders\.svc\.cluster\.local:80\/healthz"$/m,
  );
});
