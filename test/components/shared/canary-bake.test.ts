// The bake window's pod and scripts: the pod is the smoke test's hardened curl pod; its script, run
// with sh on this machine against a local server standing in for the canary Service (through the
// URL override), probes every interval and fails at the first failed probe. The analysis is run
// against a real Prometheus in test/cluster/canary-analysis.test.ts; here its unreachable case, and
// the file's judgement against a stand-in answering as Prometheus does. The runner's file runs with
// the catalogue's preamble and a kubectl stand-in, its parameters in its environment.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import {
  bakeOperations,
  bakePod,
  bakePodParameters,
  bakePodScript,
  bakeRunner,
  bakeSpec,
  bakeStepTimeoutMinutes,
  bakeUrlVariables,
  type BakeSpec,
} from "../../../components/shared/canary-bake";
import { clusterTargets, operationList } from "../../../components/shared/cluster-operations";
import { rulesFor } from "../../../components/shared/rbac-rules";
import { operationPreamble, scriptsFolder } from "../../../components/shared/script-files";
import { smokeTestImage, smokeTestPod } from "../../../components/shared/smoke-test";
import { parseStackConfig } from "../../../config/load";
import { validAnalysis, validRaw } from "../../fixtures/bad-configurations";

const run = promisify(execFile);
const targets = clusterTargets({ appName: "orders-api", namespace: "orders" });
const spec = (changes: Partial<BakeSpec> = {}): BakeSpec => ({
  targets,
  appName: "orders-api",
  podName: targets.bakePod,
  bakeSeconds: 2,
  intervalSeconds: 1,
  paths: ["/healthz", "/v1/orders"],
  maxLatencySeconds: 0.5,
  ...changes,
});
const config = (raw: Record<string, unknown>) =>
  parseStackConfig({ ...validRaw, ...raw }, "dev", { ghcrPullToken: false, slackWebhook: false });
type Pod = {
  metadata: { name: string; labels: Record<string, string> };
  spec: Record<string, unknown> & {
    activeDeadlineSeconds: number;
    containers: { name: string; image: string; command: string[] }[];
  };
};

describe("the bake pod", () => {
  test("is the smoke test's pod in all but its name, label, container name, script and deadline", () => {
    const bake = bakePod(spec()) as Pod;
    const smoke = smokeTestPod({
      targets,
      podName: targets.smokeTestPod,
      appName: "orders-api",
      paths: ["/healthz"],
      maxLatencySeconds: 0.5,
    }) as Pod;
    const shape = (p: Pod) => ({
      ...p.spec,
      activeDeadlineSeconds: 0,
      containers: p.spec.containers.map((c) => ({ ...c, name: "", command: c.command.slice(0, 2) })),
    });
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
    const s = spec({
      bakeSeconds: 300,
      intervalSeconds: 30,
      maxLatencySeconds: 1.5,
      analysis: {
        prometheusUrl: "http://p:9090",
        failureLimit: 1,
        metrics: validAnalysis.metrics.map((m) => ({ name: m.name, query: m.query, max: 1 })),
      },
    });
    // 2 paths × 3 s + 2 metrics × 2 queries × 10 s, then 60 s to start.
    assert.equal((bakePod(s) as Pod).spec.activeDeadlineSeconds, 300 + 6 + 40 + 60);
    assert.ok(bakeStepTimeoutMinutes(s) * 60 >= 300 + 406 + 30);
    assert.match(bakeRunner(s), /^POD_WAIT_SECONDS=436$/m);
    assert.match(bakeOperations(s).podPhase.command, /\{\.status\.phase\}/);
  });
  test("bakeSpec: none without a bake; 30 s rounds without analysis (or the whole window when shorter), the analysis' interval with it", () => {
    assert.equal(bakeSpec(config({ canaryBakeSeconds: 0 })), undefined);
    assert.equal(bakeSpec(config({}))?.intervalSeconds, 30);
    assert.equal(bakeSpec(config({ canaryBakeSeconds: 20 }))?.intervalSeconds, 20);
    const s = bakeSpec(
      config({ canaryAnalysis: { ...validAnalysis, prometheusUrl: "http://prometheus:9090/", intervalSeconds: 60 } }),
    )!;
    assert.equal(s.intervalSeconds, 60);
    assert.equal(
      s.analysis?.prometheusUrl,
      "http://prometheus:9090",
      "the trailing slash goes: /api/v1/query is appended",
    );
    assert.equal(s.podName, "orders-api-canary-bake");
  });
});

describe("the operations and the runner", () => {
  test("the runner creates exactly its pod, by createPod, and reads the canary's pods by list only", () => {
    const ops = operationList(bakeOperations(spec()));
    assert.deepEqual(
      ops.flatMap((o) => (o.createsPod ? [o.createsPod] : [])),
      [{ name: "orders-api-canary-bake", image: smokeTestImage }],
    );
    assert.deepEqual(rulesFor(ops), [
      {
        apiGroups: [""],
        resources: ["pods"],
        // Removed without kubectl's wait (which skips silently when refused), then polled by name.
        verbs: ["delete", "get"],
        resourceNames: ["orders-api-canary-bake"],
      },
      { apiGroups: [""], resources: ["pods"], verbs: ["create", "list"] },
      { apiGroups: [""], resources: ["pods/log"], verbs: ["get"], resourceNames: ["orders-api-canary-bake"] },
    ]);
    const runner = bakeRunner(spec());
    for (const op of ops) assert.ok(runner.includes(op.command), op.description);
    assert.ok(runner.startsWith(`${operationPreamble(bakeOperations(spec()))}\n`), "the preamble first");
    assert.match(runner, /^create_pod\(\) \{ kubectl create --filename "\$1" --namespace orders; \}$/m);
    assert.match(
      runner,
      /^BAKE_SECONDS=2\nBAKE_CHECK_SECONDS=5\nPOD_WAIT_SECONDS=96\nBAKE_POD_MANIFEST="\$\(mktemp\)"$/m,
    );
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
    const { stdout } = await run("sh", ["-c", bakePodScript(s)], {
      env: { ...process.env, [bakeUrlVariables.canary]: url, ...env },
    });
    return { lines: stdout.trim().split("\n"), seconds: (Date.now() - started) / 1000 };
  };

  test("every round probes each path once through the canary Service, on the clock, and passes", async () => {
    const { lines, seconds } = await runScript(spec({ bakeSeconds: 2, intervalSeconds: 1 }));
    assert.deepEqual(seen, ["/healthz", "/v1/orders", "/healthz", "/v1/orders"]);
    assert.equal(
      lines.filter((l) => new RegExp(`^PASS canary 200 \\S+s ${url}/(healthz|v1/orders)$`).test(l)).length,
      4,
      lines.join("\n"),
    );
    assert.equal(lines.at(-1), "RESULT pass");
    // Rounds fall on whole seconds (date +%s) after the start: 2 rounds 1 s apart end 1 to 2 s in.
    assert.ok(seconds >= 0.9 && seconds < 3.5, `${seconds} s`);
  });
  test("one failed probe fails the bake at once: no further round", async () => {
    const { lines } = await runScript(spec({ bakeSeconds: 4, intervalSeconds: 1 }), [4]);
    assert.equal(seen.length, 4, "the round of the failure completes, the next does not start");
    assert.ok(
      lines.includes(`FAIL canary 500 ${lines.find((l) => l.startsWith("FAIL"))!.split(" ")[3]} ${url}/v1/orders`),
      lines.join("\n"),
    );
    assert.equal(lines.at(-1), "RESULT fail");
  });
  test("an unreachable Prometheus is a failed measurement: within failureLimit the bake passes, past it it fails", async () => {
    const analysis = (failureLimit: number) => ({
      prometheusUrl: "http://unused:9090",
      failureLimit,
      metrics: [{ name: "error-ratio", query: validAnalysis.metrics[0].query, max: 0.05 }],
    });
    // Port 9 on loopback (discard): nothing listens, the connection is refused at once.
    const env = { [bakeUrlVariables.prometheus]: "http://127.0.0.1:9" };
    const within = await runScript(spec({ bakeSeconds: 2, intervalSeconds: 1, analysis: analysis(2) }), [], env);
    assert.equal(
      within.lines.filter((l) =>
        /^FAIL error-ratio canary=none stable=none max=0\.05 \(canary unreachable: .+\)$/.test(l),
      ).length,
      2,
      within.lines.join("\n"),
    );
    assert.equal(within.lines.at(-1), "RESULT pass");
    const past = await runScript(spec({ bakeSeconds: 3, intervalSeconds: 1, analysis: analysis(1) }), [], env);
    assert.equal(
      past.lines.filter((l) => l.startsWith("FAIL error-ratio")).length,
      2,
      "it stops at the second failure",
    );
    assert.equal(past.lines.at(-1), "RESULT fail");
  });
});

describe("the pod's file, its parameters in its environment, against a stand-in answering as Prometheus", () => {
  let server: Server;
  let url: string;
  // The value each query answers (an instant vector of one sample); a query not listed answers none.
  let values = new Map<string, string>();
  const queries: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      const u = new URL(req.url!, "http://x");
      if (u.pathname !== "/api/v1/query") return void res.writeHead(200).end("ok");
      const query = u.searchParams.get("query")!;
      queries.push(query);
      const value = values.get(query);
      const result = value === undefined ? [] : [{ metric: {}, value: [1700000000.1, value] }];
      res
        .writeHead(200, { "Content-Type": "application/json" })
        .end(JSON.stringify({ status: "success", data: { resultType: "vector", result } }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  // PromQL may hold any character: quotes, `$(…)`, backquotes, a newline; none is evaluated.
  const odd = (track: string) =>
    `sum(rate(http_requests_total{track="${track}",path=~"/a'b|$(id>evaluated)|\`id>evaluated2\`"}[1m]))\n/ 1`;
  const metric = (n: number, name: string, limits: { max?: string; over?: string }) => ({
    [`BAKE_METRIC_${n}_NAME`]: name,
    [`BAKE_METRIC_${n}_CANARY_QUERY`]: `${name}:${odd("canary")}`,
    [`BAKE_METRIC_${n}_STABLE_QUERY`]: `${name}:${odd("stable")}`,
    ...(limits.max !== undefined ? { [`BAKE_METRIC_${n}_MAX`]: limits.max } : {}),
    ...(limits.over !== undefined ? { [`BAKE_METRIC_${n}_MAX_OVER_STABLE`]: limits.over } : {}),
  });
  const bakeFile = async (metrics: Record<string, string>[], answers: Record<string, string>, failureLimit = "0") => {
    values = new Map(
      Object.entries(answers).map(([k, v]) => [k.replace(/:(canary|stable)$/, (_, t: string) => `:${odd(t)}`), v]),
    );
    queries.length = 0;
    const cwd = mkdtempSync(join(tmpdir(), "bake-pod-"));
    const env = {
      PATH: process.env.PATH!,
      BAKE_CANARY_URL: url,
      BAKE_INTERVAL_SECONDS: "0",
      BAKE_ROUNDS: "1",
      BAKE_PATHS: "1",
      BAKE_PATH_1: "/healthz",
      MAX_LATENCY_SECONDS: "1",
      REQUEST_TIMEOUT_SECONDS: "2",
      BAKE_METRICS: String(metrics.length),
      BAKE_PROMETHEUS_URL: url,
      BAKE_FAILURE_LIMIT: failureLimit,
      BAKE_QUERY_TIMEOUT_SECONDS: "2",
      ...(Object.assign({}, ...metrics) as Record<string, string>),
    };
    const files = [join(scriptsFolder, "pod-functions.sh"), join(scriptsFolder, "bake-pod.sh")];
    const { stdout } = await run("sh", ["-c", '. "$1"; . "$2"', "sh", ...files], { cwd, env });
    assert.deepEqual(readdirSync(cwd), [], "nothing of a query ran");
    return stdout.trim().split("\n");
  };

  test("each metric's canary and stable queries, exactly as given; within its limits it passes", async () => {
    const lines = await bakeFile([metric(1, "error-ratio", { max: "0.05" }), metric(2, "latency", { over: "0.1" })], {
      "error-ratio:canary": "0.01",
      "error-ratio:stable": "0.02",
      "latency:canary": "0.3",
      "latency:stable": "0.25",
    });
    assert.deepEqual(queries, [
      `error-ratio:${odd("canary")}`,
      `error-ratio:${odd("stable")}`,
      `latency:${odd("canary")}`,
      `latency:${odd("stable")}`,
    ]);
    assert.deepEqual(lines.slice(1), [
      "PASS error-ratio canary=0.01 stable=0.02 max=0.05",
      "PASS latency canary=0.3 stable=0.25 maxOverStable=0.1",
      "RESULT pass",
    ]);
  });
  test("over max, or over stable by more than maxOverStable, fails; past failureLimit the bake fails", async () => {
    const both = metric(1, "error-ratio", { max: "0.05", over: "0.01" });
    const over = await bakeFile([both], { "error-ratio:canary": "0.12", "error-ratio:stable": "0.01" });
    assert.deepEqual(over.slice(1), [
      "FAIL error-ratio canary=0.12 stable=0.01 max=0.05 maxOverStable=0.01",
      "RESULT fail",
    ]);
    const overStable = await bakeFile([both], { "error-ratio:canary": "0.04", "error-ratio:stable": "0.01" });
    assert.deepEqual(overStable.slice(1), [
      "FAIL error-ratio canary=0.04 stable=0.01 max=0.05 maxOverStable=0.01",
      "RESULT fail",
    ]);
    const within = await bakeFile([both], { "error-ratio:canary": "0.04", "error-ratio:stable": "0.01" }, "1");
    assert.equal(within.at(-1), "RESULT pass", "one failed measurement within failureLimit 1");
  });
  test("no value for stable fails a metric only when its limit needs stable's value", async () => {
    const alone = await bakeFile([metric(1, "error-ratio", { max: "0.05" })], { "error-ratio:canary": "0.01" });
    assert.deepEqual(alone.slice(1), ["PASS error-ratio canary=0.01 stable=none max=0.05", "RESULT pass"]);
    const needed = await bakeFile([metric(1, "latency", { over: "0.1" })], { "latency:canary": "0.3" });
    assert.match(
      needed[1],
      /^FAIL latency canary=0\.3 stable=none maxOverStable=0\.1 \(stable 0 series: the query must return one/,
    );
  });
  test("a spec's parameters: the placeholder replaced by each track, the limits it has, numbered from 1", () => {
    const s = spec({
      analysis: {
        prometheusUrl: "http://prometheus:9090",
        failureLimit: 2,
        metrics: [
          { name: "error-ratio", query: 'sum(rate(x{track="$track"}[1m]))', max: 0.05 },
          { name: "p90", query: "q{track='$track'}", maxOverStable: 0.1 },
        ],
      },
    });
    assert.deepEqual(bakePodParameters(s), {
      BAKE_CANARY_URL: { default: "http://orders-api-canary.orders.svc.cluster.local:80" },
      BAKE_INTERVAL_SECONDS: 1,
      BAKE_ROUNDS: 2,
      BAKE_PATHS: 2,
      BAKE_PATH_1: "/healthz",
      BAKE_PATH_2: "/v1/orders",
      MAX_LATENCY_SECONDS: 0.5,
      REQUEST_TIMEOUT_SECONDS: 2,
      BAKE_METRICS: 2,
      BAKE_PROMETHEUS_URL: { default: "http://prometheus:9090" },
      BAKE_FAILURE_LIMIT: 2,
      BAKE_QUERY_TIMEOUT_SECONDS: 10,
      BAKE_METRIC_1_NAME: "error-ratio",
      BAKE_METRIC_1_CANARY_QUERY: 'sum(rate(x{track="canary"}[1m]))',
      BAKE_METRIC_1_STABLE_QUERY: 'sum(rate(x{track="stable"}[1m]))',
      BAKE_METRIC_1_MAX: 0.05,
      BAKE_METRIC_2_NAME: "p90",
      BAKE_METRIC_2_CANARY_QUERY: "q{track='canary'}",
      BAKE_METRIC_2_STABLE_QUERY: "q{track='stable'}",
      BAKE_METRIC_2_MAX_OVER_STABLE: 0.1,
    });
    assert.equal(bakePodParameters(spec()).BAKE_METRICS, 0);
  });
});

describe("the runner's file, with the catalogue's preamble and a kubectl stand-in", () => {
  // kubectl: records its arguments; `get` prints $POD_STATES, or $POD_STATES_DURING once the pod is
  // created; `create` keeps the manifest; `logs` prints $REPORT.
  function standIn() {
    const dir = mkdtempSync(join(tmpdir(), "bake-runner-"));
    writeFileSync(
      join(dir, "kubectl"),
      [
        "#!/bin/sh",
        `printf '%s\\n' "kubectl $*" >> "${dir}/calls"`,
        `if [ -n "\${KUBECTL_FAIL_ONCE:-}" ] && [ "$1 $2" = "get pods" ] && [ ! -e "${dir}/failed" ]; then touch "${dir}/failed"; echo "The connection to the server was refused" >&2; exit 1; fi`,
        `case "$1" in`,
        `  get) case "$*" in *status.phase*) if [ -e "${dir}/exists" ]; then printf '%s' "\${POD_PHASE:-Succeeded}"; fi ;; *) if [ -e "${dir}/created.json" ]; then printf '%s\\n' "$POD_STATES_DURING"; else printf '%s\\n' "$POD_STATES"; fi ;; esac ;;`,
        `  create) cat "$3" > "${dir}/created.json"; touch "${dir}/exists" ;;`,
        `  delete) rm -f "${dir}/exists" ;;`,
        `  logs) printf '%s\\n' "$REPORT" ;;`,
        "esac",
      ].join("\n"),
      { mode: 0o755 },
    );
    chmodSync(join(dir, "kubectl"), 0o755);
    writeFileSync(join(dir, "summary.md"), "");
    return dir;
  }
  const ready = "orders-api-canary-1|img||0|True\norders-api-canary-2|img||1|True";
  async function runBake(o: { script?: string; env?: Record<string, string>; report: string; during?: string }) {
    const dir = standIn();
    const manifest = join(dir, "pod.json");
    writeFileSync(manifest, '{"kind":"Pod"}');
    const script =
      o.script ??
      `${operationPreamble(bakeOperations(spec()))}\n. "${join(scriptsFolder, "retrying.sh")}"\n. "${join(scriptsFolder, "pod-wait.sh")}"\n. "${join(scriptsFolder, "bake-runner.sh")}"`;
    const env = {
      PATH: `${dir}:${process.env.PATH}`,
      GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
      REPORT: o.report,
      POD_STATES: ready,
      POD_STATES_DURING: o.during ?? ready,
      BAKE_POD_MANIFEST: manifest,
      BAKE_SECONDS: "2",
      BAKE_CHECK_SECONDS: "1",
      POD_WAIT_SECONDS: "10",
      ...o.env,
    };
    const started = Date.now();
    const child = spawn("bash", ["-c", script], { env });
    let stdout = "",
      stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const status = await new Promise<number | null>((resolve) => child.once("close", resolve));
    const calls = existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8").trim().split("\n") : [];
    return {
      status,
      stdout,
      stderr,
      seconds: (Date.now() - started) / 1000,
      calls,
      summary: readFileSync(join(dir, "summary.md"), "utf8"),
      dir,
    };
  }
  const verb = (call: string) => call.split(" ").slice(1, 3).join(" ");

  test("a passing report passes after the whole window (never shorter: one second more), in the catalogue's order, and removes the pod", async () => {
    const r = await runBake({
      report: "PASS canary 200 0.004s http://x/healthz\nRESULT pass",
      env: { BAKE_SECONDS: "1" },
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(r.seconds >= 1, `${r.seconds} s`);
    assert.deepEqual(r.calls.slice(0, 4).map(verb), [
      "delete pod/orders-api-canary-bake",
      // Gone: its phase is empty.
      "get pod/orders-api-canary-bake",
      "get pods",
      `create --filename`,
    ]);
    assert.ok(
      r.calls[3].startsWith(`kubectl create --filename ${join(r.dir, "pod.json")} --namespace orders`),
      r.calls[3],
    );
    assert.deepEqual(r.calls.slice(-3).map(verb), [
      "get pod/orders-api-canary-bake",
      "logs pod/orders-api-canary-bake",
      "delete pod/orders-api-canary-bake",
    ]);
    assert.match(
      r.summary,
      /^### Bake window \(1 s\)\n\n- passed\n\n\| verdict \| check \| result \|\n\|---\|---\|---\|\n\| PASS \| canary \| 200 0\.004s http:\/\/x\/healthz \|\n$/,
    );
  });
  test("a failing report fails at the next look, before the window ends", async () => {
    const r = await runBake({
      report: "FAIL error-ratio canary=0.12 stable=0.01 max=0.05\nRESULT fail",
      env: { BAKE_SECONDS: "8", BAKE_CHECK_SECONDS: "0" },
    });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /::error::canary bake: the bake pod judged the canary failed/);
    assert.ok(r.seconds < 8, `${r.seconds} s`);
    assert.match(
      r.summary,
      /- failed: the bake pod judged[\s\S]*\| FAIL \| error-ratio \| canary=0\.12 stable=0\.01 max=0\.05 \|/,
    );
    assert.equal(verb(r.calls.at(-1)!), "delete pod/orders-api-canary-bake", "the pod removed on exit");
  });
  test("a canary pod not ready, or restarted since the bake began, fails it at once", async () => {
    const fast = { BAKE_SECONDS: "8", BAKE_CHECK_SECONDS: "0" };
    const unready = await runBake({
      report: "RESULT pass",
      during: "orders-api-canary-1|img||0|False\norders-api-canary-2|img||1|True",
      env: fast,
    });
    assert.equal(unready.status, 1);
    assert.match(unready.stdout, /::error::canary bake: canary pod orders-api-canary-1 is not ready/);
    assert.ok(unready.seconds < 8, `${unready.seconds} s`);
    const restarted = await runBake({
      report: "RESULT pass",
      during: "orders-api-canary-1|img||0|True\norders-api-canary-2|img||3|True",
      env: fast,
    });
    assert.equal(restarted.status, 1);
    assert.match(
      restarted.stdout,
      /::error::canary bake: canary pod orders-api-canary-2 restarted \(3 restarts, 1 when the bake began\)/,
    );
    const none = await runBake({ report: "RESULT pass", during: "", env: fast });
    assert.match(none.stdout, /::error::canary bake: the canary has no pods/);
  });
  test("a bake pod that failed (crashed, or past its deadline) fails the bake at once, not at the wait's timeout", async () => {
    const r = await runBake({
      report: "RESULT pass",
      env: { BAKE_SECONDS: "1", POD_PHASE: "Failed", POD_WAIT_SECONDS: "60" },
    });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /::error::canary bake: the bake pod did not finish/);
    assert.match(r.stderr, /the pod failed/);
    assert.ok(r.seconds < 10, `${r.seconds} s`);
  });
  test("a failed read of the pods is tried again: one refused request does not fail a healthy canary", async () => {
    const r = await runBake({
      report: "RESULT pass",
      env: { BAKE_SECONDS: "1", KUBECTL_FAIL_ONCE: "1" },
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /retrying after a failed read \(attempt 1 of 3\): canary_pod_states/);
  });
  test("without its parameters the file runs no command, naming what is missing", async () => {
    const r = await runBake({ report: "RESULT pass", env: { BAKE_POD_MANIFEST: "" } });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /BAKE_POD_MANIFEST: the file of the pod manifest/);
    assert.deepEqual(r.calls, []);
  });
  test("as rendered (bakeRunner): the pod it creates is the bake pod", async () => {
    const r = await runBake({ script: bakeRunner(spec({ bakeSeconds: 1 })), report: "RESULT pass" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(JSON.parse(readFileSync(join(r.dir, "created.json"), "utf8")), bakePod(spec({ bakeSeconds: 1 })));
  });
});
