import assert from "node:assert/strict";
import { test } from "node:test";
import { canarySplit, unreachableWeightMessage, weightOf } from "../../../components/shared/canary-split";

test("10% beside 9 stable replicas is one canary pod", () => {
  assert.deepEqual(canarySplit(9, 10), { canaryReplicas: 1, actualWeight: 10, reachable: true });
});

test("10% beside 18 stable replicas is two canary pods", () => {
  assert.equal(canarySplit(18, 10).canaryReplicas, 2);
});

test("the real weight is canary / (stable + canary)", () => {
  assert.equal(weightOf(3, 1), 25);
  assert.ok(Math.abs(weightOf(9, 4) - 30.77) < 0.01);
});

test("a weight more than a point away is unreachable, and the message names both neighbours", () => {
  assert.equal(canarySplit(9, 33).reachable, false);
  assert.equal(
    unreachableWeightMessage(9, 33),
    "33 is not reachable with 9 stable replicas: 4 canary pods give 30.8%, 5 give 35.7%",
  );
});

test("the canary never gets zero pods", () => {
  const split = canarySplit(2, 1);
  assert.equal(split.canaryReplicas, 1);
  assert.equal(split.reachable, false);
  assert.equal(unreachableWeightMessage(2, 1), "1 is not reachable with 2 stable replicas: 1 canary pod gives 33.3%");
});

test("every reachable split is within one point, for all small fleets", () => {
  for (let stable = 1; stable <= 40; stable++) {
    for (let weight = 1; weight <= 50; weight++) {
      const s = canarySplit(stable, weight);
      assert.equal(s.reachable, Math.abs(s.actualWeight - weight) <= 1);
      // No other whole pod count is closer than the one chosen.
      for (const c of [s.canaryReplicas - 1, s.canaryReplicas + 1].filter((c) => c >= 1)) {
        assert.ok(
          Math.abs(weightOf(stable, c) - weight) >= Math.abs(s.actualWeight - weight) - 1e-9,
          `${stable}/${weight}: ${c} is closer`,
        );
      }
    }
  }
});
