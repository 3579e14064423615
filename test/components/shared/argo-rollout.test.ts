// The Argo Rollouts engine's plan (components/shared/argo-rollout.ts), from the settings: the canary
// steps in order and what each index means to the workflow, the smoke test's and the bake's
// AnalysisTemplates (web metrics through the canary Service, Prometheus metrics per track), and the
// approval pause that keeps the canary within canaryLifetimeMinutes.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bakeRounds } from "../../../components/shared/canary-bake";
import { rolloutPlan, type RolloutMetric, type RolloutPlan } from "../../../components/shared/argo-rollout";
import { stackConfig } from "../cluster-render";

const engine = { canaryEngine: "argo-rollouts" };
const analysis = {
  prometheusUrl: "http://prometheus.monitoring.svc:9090/",
  intervalSeconds: 20,
  failureLimit: 2,
  metrics: [
    { name: "error-ratio", query: 'sum(rate(errors{track="$track"}[1m]))', max: 0.05, maxOverStable: "0.01" },
    { name: "p99-latency", query: 'histogram_quantile(0.99, latency{track="$track"})', max: 0.8 },
    { name: "saturation", query: 'max(cpu{track="$track"})', maxOverStable: 0.2 },
  ],
};

const planOf = (overrides: Record<string, unknown> = {}) =>
  rolloutPlan(stackConfig("eks", { ...engine, ...overrides }));
const template = (plan: RolloutPlan, suffix: string) => {
  const found = plan.templates.find((t) => t.name === `orders-api-${suffix}`);
  assert.ok(found, `no template orders-api-${suffix} among ${plan.templates.map((t) => t.name).join(", ")}`);
  return found;
};
const web = (m: RolloutMetric) => ("web" in m.provider ? m.provider.web : undefined);
const prometheus = (m: RolloutMetric) => ("prometheus" in m.provider ? m.provider.prometheus : undefined);
const seconds = (duration: string | undefined) => {
  const m = /^(\d+)s$/.exec(duration ?? "");
  assert.ok(m, `a duration in seconds, not ${String(duration)}`);
  return Number(m[1]);
};

describe("the Rollout's canary steps", () => {
  test("with a bake: setWeight canaryWeight, the smoke test, the bake, the approval pause, setWeight 0, an indefinite pause", () => {
    const plan = planOf({ canaryWeight: 25, canaryBakeSeconds: 120 });
    assert.equal(plan.steps.length, 6);
    assert.deepEqual(plan.steps[0], { setWeight: 25 });
    assert.deepEqual(plan.steps[1], { analysis: { templates: [{ templateName: "orders-api-smoke-test" }] } });
    assert.deepEqual(plan.steps[2], { analysis: { templates: [{ templateName: "orders-api-bake" }] } });
    assert.ok("pause" in plan.steps[3] && plan.steps[3].pause.duration !== undefined, "a pause with a duration");
    assert.deepEqual(plan.steps[4], { setWeight: 0 });
    assert.deepEqual(plan.steps[5], { pause: {} });
    assert.deepEqual(
      plan.templates.map((t) => t.name),
      ["orders-api-smoke-test", "orders-api-bake"],
    );
  });

  test("without a bake (canaryBakeSeconds 0): no bake step and no bake template; the indexes move up", () => {
    const plan = planOf({ canaryBakeSeconds: 0 });
    assert.deepEqual(
      plan.steps.map((s) => Object.keys(s)[0]),
      ["setWeight", "analysis", "pause", "setWeight", "pause"],
    );
    assert.deepEqual(
      plan.templates.map((t) => t.name),
      ["orders-api-smoke-test"],
    );
    assert.equal(plan.approvalStep, 2);
    assert.equal(plan.expiredStep, 4);
  });

  test("approvalStep is the timed pause after every analysis; expiredStep the indefinite pause after setWeight 0", () => {
    for (const bake of [0, 120]) {
      const plan = planOf({ canaryBakeSeconds: bake });
      const approval = plan.steps[plan.approvalStep];
      assert.ok(
        "pause" in approval && approval.pause.duration !== undefined,
        `bake ${bake}: step ${plan.approvalStep}`,
      );
      assert.equal(seconds(approval.pause.duration), plan.approvalPauseSeconds);
      assert.ok(
        plan.steps.every((s, i) => !("analysis" in s) || i < plan.approvalStep),
        "every analysis runs before the approval pause",
      );
      assert.deepEqual(plan.steps[plan.expiredStep], { pause: {} });
      assert.deepEqual(plan.steps[plan.expiredStep - 1], { setWeight: 0 });
    }
  });

  test("the approval pause ends when the canary has served canaryLifetimeMinutes since its analysis began", () => {
    for (const [lifetime, bake, requests] of [
      [60, 120, 20],
      [30, 0, 5],
      [240, 600, 50],
    ]) {
      const plan = planOf({ canaryLifetimeMinutes: lifetime, canaryBakeSeconds: bake, smokeRequests: requests });
      const rounds = bake > 0 ? bakeRounds(bake, Math.min(30, bake)) : 0;
      // The smoke requests one second apart, then the bake's rounds: the analysis' own duration.
      assert.equal(plan.analysisSeconds, requests - 1 + (bake > 0 ? (rounds - 1) * Math.min(30, bake) : 0));
      assert.equal(plan.analysisSeconds + plan.approvalPauseSeconds, lifetime * 60, `lifetime ${lifetime}`);
    }
  });

  test("the Rollout and its Services are named after the app: the canary Service the pipeline engine's, a stable one beside it", () => {
    const plan = planOf();
    assert.equal(plan.name, "orders-api");
    assert.equal(plan.canaryService, "orders-api-canary");
    assert.equal(plan.stableService, "orders-api-stable");
  });
});

describe("the smoke test's AnalysisTemplate", () => {
  test("one web metric per smoke path, through the canary Service, smokeRequests times a second apart; any error aborts", () => {
    const plan = planOf({ smokeRequests: 7, smokeMaxLatencySeconds: "1.5" });
    const { metrics } = template(plan, "smoke-test");
    assert.equal(metrics.length, 2);
    ["/healthz", "/v1/orders?limit=1"].forEach((path, i) => {
      const m = metrics[i];
      assert.equal(web(m)?.url, `http://orders-api-canary.orders-dev.svc.cluster.local:80${path}`);
      assert.equal(web(m)?.timeoutSeconds, 2, "the smoke latency, rounded up to whole seconds");
      assert.equal(m.count, 7);
      assert.equal(m.interval, "1s");
      assert.equal(m.failureLimit, 0);
      assert.equal(m.consecutiveErrorLimit, 0, "Argo's web provider reports a non-2xx answer as an error");
      assert.equal(m.successCondition, undefined, "the web provider's own verdict: a 2xx answer");
    });
  });

  test("the default is 20 requests per path; one request is measured once, without an interval", () => {
    assert.ok(template(planOf(), "smoke-test").metrics.every((m) => m.count === 20));
    const single = template(planOf({ smokeRequests: 1 }), "smoke-test").metrics;
    assert.ok(single.every((m) => m.count === 1 && m.interval === undefined));
  });

  test("metric names are unique DNS-1123 labels, by path and index", () => {
    const plan = planOf({
      smokePaths: ["/healthz", "/v1/orders?limit=1", "/v1/orders?limit=2", `/${"x".repeat(80)}`],
      canaryBakeSeconds: 120,
      canaryAnalysis: analysis,
    });
    for (const t of plan.templates) {
      const names = t.metrics.map((m) => m.name);
      assert.equal(new Set(names).size, names.length, `${t.name}: ${names.join(", ")}`);
      for (const n of names) assert.match(n, /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, n);
    }
  });
});

describe("the bake's AnalysisTemplate", () => {
  test("each smoke path probed through the canary Service every interval, for the window's rounds", () => {
    const plan = planOf({ canaryBakeSeconds: 120 });
    const { metrics } = template(plan, "bake");
    assert.equal(metrics.length, 2);
    for (const m of metrics) {
      assert.match(web(m)?.url ?? "", /^http:\/\/orders-api-canary\.orders-dev\.svc\.cluster\.local:80\//);
      assert.equal(m.count, bakeRounds(120, 30));
      assert.equal(m.interval, "30s");
      assert.equal(m.failureLimit, 0);
      assert.equal(m.consecutiveErrorLimit, 0);
    }
  });

  test("canaryAnalysis: the canary's value under max, its excess over stable's under maxOverStable, failureLimit from the settings", () => {
    const plan = planOf({ canaryBakeSeconds: 120, canaryAnalysis: analysis });
    const metrics = template(plan, "bake").metrics.filter((m) => prometheus(m) !== undefined);
    assert.deepEqual(
      metrics.map((m) => m.name),
      ["error-ratio", "error-ratio-over-stable", "p99-latency", "saturation-over-stable"],
    );
    const byName = (name: string) => metrics.find((m) => m.name === name)!;
    for (const m of metrics) {
      const p = prometheus(m)!;
      assert.equal(p.address, "http://prometheus.monitoring.svc:9090", "the URL without its trailing slash");
      assert.ok(!p.query.includes("$track"), `${m.name}: every $track replaced`);
      assert.equal(m.failureLimit, 2);
      assert.equal(m.consecutiveErrorLimit, 2, "an unreachable Prometheus is tolerated as often as a failure");
      assert.equal(m.count, bakeRounds(120, 20));
      assert.equal(m.interval, "20s");
    }
    assert.equal(prometheus(byName("error-ratio"))!.query, 'sum(rate(errors{track="canary"}[1m]))');
    assert.equal(byName("error-ratio").successCondition, "len(result) > 0 && result[0] <= 0.05");
    assert.equal(byName("p99-latency").successCondition, "len(result) > 0 && result[0] <= 0.8");
    const over = prometheus(byName("error-ratio-over-stable"))!.query;
    assert.equal(
      over,
      'vector(scalar(sum(rate(errors{track="canary"}[1m]))) - scalar(sum(rate(errors{track="stable"}[1m]))))',
    );
    assert.equal(byName("error-ratio-over-stable").successCondition, "len(result) > 0 && result[0] <= 0.01");
    assert.equal(byName("saturation-over-stable").successCondition, "len(result) > 0 && result[0] <= 0.2");
  });
});
