// The smoke test's two scripts, run for real: the pod's script with curl against a local server
// (every cluster host name routed to it through curl's own config), and the runner with a
// kubectl stand-in on PATH that records each call and answers with a report.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { clusterTargets } from "../../../components/shared/cluster-operations";
import { smokeTestOperations, smokeTestPod, smokeTestPodScript, smokeTestRunner, type SmokeTestSpec } from "../../../components/shared/smoke-test";

const run = promisify(execFile);
const targets = clusterTargets({ appName: "orders-api", namespace: "orders" });
const spec = (paths: string[], maxLatencySeconds = 0.5): SmokeTestSpec => ({ targets, podName: targets.smokeTestPod, appName: "orders-api", paths, maxLatencySeconds, requestsPerPath: 2 });

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
  const runPod = async (s: SmokeTestSpec) => (await run("sh", ["-c", smokeTestPodScript(s)], { env: { ...process.env, CURL_HOME: curlHome } })).stdout.trim().split("\n");

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
    assert.ok(lines.some((l) => /^FAIL canary 500 \S+s http:\/\/orders-api-canary\.orders\.svc\.cluster\.local:80\/broken$/.test(l)), lines.join("\n"));
    assert.equal(lines.at(-1), "RESULT fail");
  });
  test("a slow answer fails even with status 200", async () => {
    const lines = await runPod(spec(["/slow"], 0.2));
    assert.ok(lines.some((l) => /^FAIL canary 200 0\.[4-9]/.test(l)), lines.join("\n"));
    assert.equal(lines.at(-1), "RESULT fail");
  });
});

describe("the runner", () => {
  // A kubectl stand-in: records its arguments; `logs` prints the report in $REPORT.
  function fakeKubectl(): { bin: string; calls: string } {
    const bin = mkdtempSync(join(tmpdir(), "kubectl-"));
    const calls = join(bin, "calls");
    writeFileSync(join(bin, "kubectl"), `#!/bin/sh\necho "kubectl $*" >> "${calls}"\ncase "$1" in logs) printf '%s\\n' "$REPORT";; esac\n`);
    chmodSync(join(bin, "kubectl"), 0o755);
    return { bin, calls };
  }
  const runner = async (report: string) => {
    const { bin, calls } = fakeKubectl();
    const summary = join(bin, "summary.md");
    writeFileSync(summary, "");
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, REPORT: report, GITHUB_STEP_SUMMARY: summary };
    const result = await run("bash", ["-c", smokeTestRunner(spec(["/healthz"]))], { env }).then(() => 0, (e: { code: number }) => e.code);
    return { code: result, calls: readFileSync(calls, "utf8").trim().split("\n"), summary: readFileSync(summary, "utf8") };
  };

  test("runs exactly the catalogue's operations, and passes on a passing report", async () => {
    const { code, calls, summary } = await runner("PASS canary 200 0.01s http://x/healthz\nRESULT pass");
    assert.equal(code, 0);
    const expected = smokeTestOperations(spec(["/healthz"]), '"$manifest"').map((o) => o.command.split(" ").slice(0, 3).join(" "));
    assert.deepEqual(calls.map((c) => c.split(" ").slice(0, 3).join(" ")), [...expected, expected[0]], "delete, create, wait, logs, then delete on exit");
    assert.match(summary, /\| PASS \| canary \| 200 \| 0.01s \|/);
  });
  test("fails on a failing report, and still removes the pod", async () => {
    const { code, calls } = await runner("FAIL canary 500 0.01s http://x/healthz\nRESULT fail");
    assert.notEqual(code, 0);
    assert.match(calls.at(-1)!, /^kubectl delete pod\/orders-api-smoke-test/);
  });
});

test("the smoke-test pod is hardened for the restricted profile", () => {
  const pod = smokeTestPod(spec(["/healthz"])) as { spec: { automountServiceAccountToken: boolean; securityContext: Record<string, unknown>; containers: { image: string; securityContext: Record<string, unknown> }[] } };
  assert.equal(pod.spec.automountServiceAccountToken, false);
  assert.deepEqual(pod.spec.securityContext.seccompProfile, { type: "RuntimeDefault" });
  assert.equal(pod.spec.securityContext.runAsNonRoot, true);
  for (const c of pod.spec.containers) {
    assert.match(c.image, /@sha256:[a-f0-9]{64}$/);
    assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } });
  }
});

test("the pod's deadline covers every request at its cut-off, and the wait outlasts the deadline", () => {
  const s = spec(["/a", "/b"], 1.5);
  const pod = smokeTestPod(s) as { spec: { activeDeadlineSeconds: number; containers: { command: string[] }[] } };
  assert.match(pod.spec.containers[0].command[2], /--max-time 3 /);
  assert.equal(pod.spec.activeDeadlineSeconds, 2 * 2 * 2 * 3 + 30);
  assert.match(smokeTestOperations(s, "m")[2].command, /--timeout=84s /);
});

test("a test through the main Service only requests no canary host", () => {
  const script = smokeTestPodScript({ ...spec(["/healthz"]), through: ["main"] });
  assert.doesNotMatch(script, /orders-api-canary/);
  assert.match(script, /check main 'http:\/\/orders-api\.orders\.svc\.cluster\.local:80\/healthz'/);
});
