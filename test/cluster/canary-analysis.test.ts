// The bake window's analysis against a real Prometheus server (Debian's prometheus package): the
// test serves an exporter with canary and stable series, Prometheus on loopback scrapes it every
// second, and the bake pod's exact script runs here with sh and curl, its URLs pointed at the
// exporter (standing for the canary Service) and at Prometheus. No cluster is needed; it runs in
// the real tier because it needs a real server.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { bakePodScript, bakeUrlVariables, type BakeMetric, type BakeSpec } from "../../components/shared/canary-bake";
import { clusterTargets } from "../../components/shared/cluster-operations";
import { freePort, startPrometheus, type PrometheusServer } from "./prometheus";

const run = promisify(execFile);

/**
 * The exporter's series, per `service` label (each a scenario) and track: requests a second, the
 * share that fail (code 500), and the share of requests at or under each latency bucket.
 */
const buckets = [0.1, 0.25, 0.5, 1];
const scenarios: Record<
  string,
  Record<"canary" | "stable", { perSecond: number; errors: number; latency: number[] }>
> = {
  good: {
    canary: { perSecond: 100, errors: 0.01, latency: [0.9, 1, 1, 1] },
    stable: { perSecond: 100, errors: 0.01, latency: [0.9, 1, 1, 1] },
  },
  errors: {
    canary: { perSecond: 100, errors: 0.1, latency: [0.9, 1, 1, 1] },
    stable: { perSecond: 100, errors: 0.01, latency: [0.9, 1, 1, 1] },
  },
  slow: {
    canary: { perSecond: 100, errors: 0.01, latency: [0.1, 0.2, 0.4, 1] },
    stable: { perSecond: 100, errors: 0.01, latency: [0.9, 1, 1, 1] },
  },
  idle: {
    canary: { perSecond: 0, errors: 0, latency: [1, 1, 1, 1] },
    stable: { perSecond: 100, errors: 0.01, latency: [0.9, 1, 1, 1] },
  },
};

/** The exposition text at `seconds` after the start: counters grow at their scenario's rates. */
function exposition(seconds: number): string {
  const lines = ["# TYPE http_requests_total counter", "# TYPE http_request_duration_seconds histogram"];
  for (const [service, tracks] of Object.entries(scenarios)) {
    for (const [track, s] of Object.entries(tracks)) {
      const total = Math.floor(s.perSecond * seconds);
      const labels = `service="${service}",track="${track}"`;
      const failed = Math.floor(total * s.errors);
      lines.push(
        `http_requests_total{${labels},code="200"} ${total - failed}`,
        `http_requests_total{${labels},code="500"} ${failed}`,
      );
      buckets.forEach((le, i) =>
        lines.push(`http_request_duration_seconds_bucket{${labels},le="${le}"} ${Math.floor(total * s.latency[i])}`),
      );
      lines.push(
        `http_request_duration_seconds_bucket{${labels},le="+Inf"} ${total}`,
        `http_request_duration_seconds_count{${labels}} ${total}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

const errorRatio = (service: string, max: number, maxOverStable?: number): BakeMetric => ({
  name: "error-ratio",
  query: `sum(rate(http_requests_total{service="${service}",track="$track",code="500"}[5s])) / sum(rate(http_requests_total{service="${service}",track="$track"}[5s]))`,
  max,
  ...(maxOverStable !== undefined ? { maxOverStable } : {}),
});
const p90Latency = (service: string, maxOverStable: number): BakeMetric => ({
  name: "p90-latency",
  query: `histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{service="${service}",track="$track"}[5s])))`,
  maxOverStable,
});

const targets = clusterTargets({ appName: "orders-api", namespace: "orders" });
const spec = (metrics: BakeMetric[], failureLimit = 0, bakeSeconds = 2): BakeSpec => ({
  targets,
  appName: "orders-api",
  podName: targets.bakePod,
  bakeSeconds,
  intervalSeconds: 1,
  paths: ["/healthz"],
  maxLatencySeconds: 1,
  analysis: { prometheusUrl: "http://prometheus.monitoring.svc:9090", failureLimit, metrics },
});

describe("the bake window's analysis against a real Prometheus", () => {
  let prometheus: PrometheusServer;
  let exporterUrl: string;
  let prometheusUrl: string;

  before(async () => {
    const started = Date.now();
    prometheus = await startPrometheus({
      exposition: () => exposition((Date.now() - started) / 1000),
      // Until the target is up and rate() over the window has data for both tracks.
      ready: { query: 'count(rate(http_requests_total{service="good"}[5s]) > 0)', value: "4" },
    });
    ({ url: prometheusUrl, exporterUrl } = prometheus);
  });
  after(async () => {
    await prometheus?.close();
  });

  const bake = async (s: BakeSpec, prometheusAt = prometheusUrl) => {
    const env = {
      PATH: "/usr/bin:/bin",
      [bakeUrlVariables.canary]: exporterUrl,
      [bakeUrlVariables.prometheus]: prometheusAt,
    };
    const { stdout } = await run("sh", ["-c", bakePodScript(s)], { env });
    return stdout.trim().split("\n");
  };
  const value = (line: string | undefined, track: string) =>
    Number(new RegExp(`${track}=(\\S+)`).exec(line ?? "")?.[1]);

  test("a canary whose error ratio and latency are like stable's passes every measurement", async () => {
    const lines = await bake(spec([errorRatio("good", 0.05, 0.01), p90Latency("good", 0.05)]));
    const ratios = lines.filter((l) => l.startsWith("PASS error-ratio "));
    assert.equal(ratios.length, 2, lines.join("\n"));
    assert.ok(
      Math.abs(value(ratios[0], "canary") - 0.01) < 0.003 && Math.abs(value(ratios[0], "stable") - 0.01) < 0.003,
      ratios[0],
    );
    assert.equal(lines.filter((l) => l.startsWith("PASS p90-latency ")).length, 2, lines.join("\n"));
    assert.equal(lines.filter((l) => l.startsWith("PASS canary 200 ")).length, 2, "the probes too");
    assert.equal(lines.at(-1), "RESULT pass");
  });

  test("a canary error ratio over max fails (failureLimit 0: at the first measurement)", async () => {
    const lines = await bake(spec([errorRatio("errors", 0.05)]));
    const failed = lines.filter((l) => l.startsWith("FAIL error-ratio "));
    assert.equal(failed.length, 1, lines.join("\n"));
    assert.ok(value(failed[0], "canary") > 0.08 && value(failed[0], "stable") < 0.02, failed[0]);
    assert.match(failed[0], / max=0\.05$/);
    assert.equal(lines.at(-1), "RESULT fail");
  });

  test("a canary latency quantile over stable's by more than maxOverStable fails", async () => {
    const lines = await bake(spec([p90Latency("slow", 0.2)]));
    const failed = lines.find((l) => l.startsWith("FAIL p90-latency "));
    assert.ok(failed && value(failed, "canary") - value(failed, "stable") > 0.2, lines.join("\n"));
    assert.equal(lines.at(-1), "RESULT fail");
    // The same canary within a looser bound passes.
    assert.equal((await bake(spec([p90Latency("slow", 1)]))).at(-1), "RESULT pass");
  });

  test("an unreachable Prometheus counts against failureLimit: 2 failures pass a limit of 2 and fail a limit of 1", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const within = await bake(spec([errorRatio("good", 0.05)], 2), closed);
    assert.equal(
      within.filter((l) => /^FAIL error-ratio canary=none stable=none max=0\.05 \(canary unreachable: .+\)$/.test(l))
        .length,
      2,
      within.join("\n"),
    );
    assert.equal(within.at(-1), "RESULT pass");
    const past = await bake(spec([errorRatio("good", 0.05)], 1), closed);
    assert.equal(past.at(-1), "RESULT fail", past.join("\n"));
  });

  test("no traffic: the ratio is NaN and an unknown series is empty, both failed measurements; `>= 0` and `or vector(0)` turn both into 0", async () => {
    const lines = await bake(
      spec(
        [errorRatio("idle", 0.05), { name: "absent", query: 'sum(rate(no_such_total{track="$track"}[5s]))', max: 1 }],
        10,
      ),
    );
    assert.ok(
      lines.some((l) => /^FAIL error-ratio canary=none stable=\S+ max=0\.05 \(canary not a number: NaN\)$/.test(l)),
      lines.join("\n"),
    );
    assert.ok(
      lines.some((l) => /^FAIL absent canary=none .*\(canary 0 series: /.test(l)),
      lines.join("\n"),
    );
    const guarded = (m: BakeMetric) => ({ ...m, query: `(${m.query} >= 0) or vector(0)` });
    const fixed = await bake(
      spec([
        guarded(errorRatio("idle", 0.05)),
        guarded({ name: "absent", query: 'sum(rate(no_such_total{track="$track"}[5s]))', max: 1 }),
      ]),
    );
    assert.ok(
      fixed.some((l) => l.startsWith("PASS error-ratio canary=0 ")),
      fixed.join("\n"),
    );
    assert.equal(fixed.at(-1), "RESULT pass");
  });
});
