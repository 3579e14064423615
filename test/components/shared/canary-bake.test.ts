// The bake window's pod and script: the pod is the smoke test's hardened curl pod; its script, run
// with sh on this machine against a local server standing in for the canary Service (through the
// URL override), probes every interval and fails at the first failed probe. The analysis is run
// against a real Prometheus in test/cluster/canary-analysis.test.ts; here only its unreachable case.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { bakeOperations, bakePod, bakePodScript, bakeRunner, bakeSpec, bakeStepTimeoutMinutes, bakeUrlVariables, type BakeSpec } from "../../../components/shared/canary-bake";
import { clusterTargets, rulesFor } from "../../../components/shared/cluster-operations";
import { smokeTestImage, smokeTestPod } from "../../../components/shared/smoke-test";
import { parseStackConfig } from "../../../config/load";
import { validAnalysis, validRaw } from "../../fixtures/bad-configurations";

const run = promisify(execFile);
const targets = clusterTargets({ appName: "orders-api", namespace: "orders" });
const spec = (changes: Partial<BakeSpec> = {}): BakeSpec => ({
  targets, appName: "orders-api", podName: targets.bakePod, bakeSeconds: 2, intervalSeconds: 1, paths: ["/healthz", "/v1/orders"], maxLatencySeconds: 0.5, ...changes,
});
const config = (raw: Record<string, unknown>) => parseStackConfig({ ...validRaw, ...raw }, "dev", { ghcrPullToken: false, slackWebhook: false });
type Pod = { metadata: { name: string; labels: Record<string, string> }; spec: Record<string, unknown> & { activeDeadlineSeconds: number; containers: { name: string; image: string; command: string[] }[] } };

describe("the bake pod", () => {
  test("is the smoke test's pod in all but its name, label, container name, script and deadline", () => {
    const bake = bakePod(spec()) as Pod;
    const smoke = smokeTestPod({ targets, podName: targets.smokeTestPod, appName: "orders-api", paths: ["/healthz"], maxLatencySeconds: 0.5 }) as Pod;
    const shape = (p: Pod) => ({ ...p.spec, activeDeadlineSeconds: 0, containers: p.spec.containers.map((c) => ({ ...c, name: "", command: c.command.slice(0, 2) })) });
    assert.deepEqual(shape(bake), shape(smoke));
    assert.equal(bake.metadata.name, "orders-api-canary-bake");
    assert.equal(bake.metadata.labels["app.kubernetes.io/name"], "orders-api-canary-bake");
    assert.equal(bake.spec.containers[0].name, "canary-bake");
    assert.equal(bake.spec.containers[0].image, smokeTestImage);
    assert.equal(bake.spec.automountServiceAccountToken, false);
    assert.equal(bake.spec.volumes, undefined);
    assert.deepEqual(bake.spec.containers[0].command.slice(0, 2), ["/bin/sh", "-c"]);
  });
  test("its deadline is the window plus one round at every cut-off plus start-up; the step's timeout outlasts both", () => {
    const s = spec({ bakeSeconds: 300, intervalSeconds: 30, maxLatencySeconds: 1.5, analysis: { prometheusUrl: "http://p:9090", failureLimit: 1, metrics: validAnalysis.metrics.map((m) => ({ name: m.name, query: m.query, max: 1 })) } });
    // 2 paths × 3 s + 2 metrics × 2 queries × 10 s, then 60 s to start.
    assert.equal((bakePod(s) as Pod).spec.activeDeadlineSeconds, 300 + 6 + 40 + 60);
    assert.ok(bakeStepTimeoutMinutes(s) * 60 >= 300 + 406 + 30);
    assert.match(bakeOperations(s, "m").at(-1)!.command, /--timeout=436s /);
  });
  test("bakeSpec: none without a bake; 30 s rounds without analysis (or the whole window when shorter), the analysis' interval with it", () => {
    assert.equal(bakeSpec(config({ canaryBakeSeconds: 0 })), undefined);
    assert.equal(bakeSpec(config({}))?.intervalSeconds, 30);
    assert.equal(bakeSpec(config({ canaryBakeSeconds: 20 }))?.intervalSeconds, 20);
    const s = bakeSpec(config({ canaryAnalysis: { ...validAnalysis, prometheusUrl: "http://prometheus:9090/", intervalSeconds: 60 } }))!;
    assert.equal(s.intervalSeconds, 60);
    assert.equal(s.analysis?.prometheusUrl, "http://prometheus:9090", "the trailing slash goes: /api/v1/query is appended");
    assert.equal(s.podName, "orders-api-canary-bake");
  });
});

describe("the operations and the runner", () => {
  test("the runner creates exactly its pod, by createPod, and reads the canary's pods by list only", () => {
    const ops = bakeOperations(spec(), '"$manifest"');
    assert.deepEqual(ops.flatMap((o) => (o.createsPod ? [o.createsPod] : [])), [{ name: "orders-api-canary-bake", image: smokeTestImage }]);
    assert.deepEqual(rulesFor(ops), [
      { apiGroups: [""], resources: ["pods"], verbs: ["delete", "get", "list", "watch"], resourceNames: ["orders-api-canary-bake"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["create", "list"] },
      { apiGroups: [""], resources: ["pods/log"], verbs: ["get"], resourceNames: ["orders-api-canary-bake"] },
    ]);
    const runner = bakeRunner(spec());
    for (const op of ops) assert.ok(runner.includes(op.command), op.description);
  });
});

describe("the pod's script on this machine", () => {
  let server: Server;
  let url: string;
  // Answers 200, except the requests whose number (from 1) is in `failing`.
  let failing = new Set<number>();
  let count = 0;
  const seen: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      count += 1;
      seen.push(req.url!);
      res.writeHead(failing.has(count) ? 500 : 200).end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());
  const runScript = async (s: BakeSpec, fail: number[] = [], env: Record<string, string> = {}) => {
    failing = new Set(fail);
    count = 0;
    seen.length = 0;
    const started = Date.now();
    const { stdout } = await run("sh", ["-c", bakePodScript(s)], { env: { ...process.env, [bakeUrlVariables.canary]: url, ...env } });
    return { lines: stdout.trim().split("\n"), seconds: (Date.now() - started) / 1000 };
  };

  test("every round probes each path once through the canary Service, on the clock, and passes", async () => {
    const { lines, seconds } = await runScript(spec({ bakeSeconds: 2, intervalSeconds: 1 }));
    assert.deepEqual(seen, ["/healthz", "/v1/orders", "/healthz", "/v1/orders"]);
    assert.equal(lines.filter((l) => new RegExp(`^PASS canary 200 \\S+s ${url}/(healthz|v1/orders)$`).test(l)).length, 4, lines.join("\n"));
    assert.equal(lines.at(-1), "RESULT pass");
    // Rounds fall on whole seconds (date +%s) after the start: 2 rounds 1 s apart end 1 to 2 s in.
    assert.ok(seconds >= 0.9 && seconds < 3.5, `${seconds} s`);
  });
  test("one failed probe fails the bake at once: no further round", async () => {
    const { lines } = await runScript(spec({ bakeSeconds: 4, intervalSeconds: 1 }), [4]);
    assert.equal(seen.length, 4, "the round of the failure completes, the next does not start");
    assert.ok(lines.includes(`FAIL canary 500 ${lines.find((l) => l.startsWith("FAIL"))!.split(" ")[3]} ${url}/v1/orders`), lines.join("\n"));
    assert.equal(lines.at(-1), "RESULT fail");
  });
  test("an unreachable Prometheus is a failed measurement: within failureLimit the bake passes, past it it fails", async () => {
    const analysis = (failureLimit: number) => ({ prometheusUrl: "http://unused:9090", failureLimit, metrics: [{ name: "error-ratio", query: validAnalysis.metrics[0].query, max: 0.05 }] });
    // Port 9 on loopback (discard): nothing listens, the connection is refused at once.
    const env = { [bakeUrlVariables.prometheus]: "http://127.0.0.1:9" };
    const within = await runScript(spec({ bakeSeconds: 2, intervalSeconds: 1, analysis: analysis(2) }), [], env);
    assert.equal(within.lines.filter((l) => /^FAIL error-ratio canary=none stable=none max=0\.05 \(canary unreachable: .+\)$/.test(l)).length, 2, within.lines.join("\n"));
    assert.equal(within.lines.at(-1), "RESULT pass");
    const past = await runScript(spec({ bakeSeconds: 3, intervalSeconds: 1, analysis: analysis(1) }), [], env);
    assert.equal(past.lines.filter((l) => l.startsWith("FAIL error-ratio")).length, 2, "it stops at the second failure");
    assert.equal(past.lines.at(-1), "RESULT fail");
  });
});
