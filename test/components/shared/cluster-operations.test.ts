import assert from "node:assert/strict";
import { test } from "node:test";
import { clusterOperations as ops, clusterTargets, rulesFor } from "../../../components/shared/cluster-operations";

const t = clusterTargets({ appName: "orders-api", namespace: "orders" });

test("rules of several operations merge by resource and names, verbs sorted and unique", () => {
  const rules = rulesFor([ops.setImage(t, t.canaryDeployment, "$IMAGE"), ops.rolloutStatus(t, t.canaryDeployment, "5m"), ops.scale(t, t.canaryDeployment, 1)]);
  assert.deepEqual(rules, [
    { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "patch", "watch"], resourceNames: ["orders-api-canary"] },
    { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["patch"], resourceNames: ["orders-api-canary"] },
  ]);
});

test("commands name their namespace and the object they act on", () => {
  assert.equal(ops.setImage(t, t.stableDeployment, "$IMAGE").command, "kubectl set image deployment/orders-api orders-api=$IMAGE --namespace orders");
  assert.equal(ops.scale(t, t.canaryDeployment, 0).command, "kubectl scale deployment/orders-api-canary --replicas=0 --namespace orders");
});
