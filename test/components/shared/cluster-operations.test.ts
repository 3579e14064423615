import assert from "node:assert/strict";
import { test } from "node:test";
import { clusterOperations as ops, clusterTargets, operationList } from "../../../components/shared/cluster-operations";
import { rulesFor } from "../../../components/shared/rbac-rules";

const t = clusterTargets({ appName: "orders-api", namespace: "orders" });

test("rules of several operations merge by resource and names, verbs sorted and unique", () => {
  const rules = rulesFor([
    ops.setImage(t, t.canaryDeployment, "$IMAGE"),
    ops.rolloutStatus(t, t.canaryDeployment, "5m"),
    ops.scale(t, t.canaryDeployment, 1),
  ]);
  assert.deepEqual(rules, [
    {
      apiGroups: ["apps"],
      resources: ["deployments"],
      verbs: ["get", "list", "patch", "watch"],
      resourceNames: ["orders-api-canary"],
    },
    { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["patch"], resourceNames: ["orders-api-canary"] },
  ]);
});

test("commands name their namespace and the object they act on", () => {
  assert.equal(
    ops.setImage(t, t.stableDeployment, "$IMAGE").command,
    "kubectl set image deployment/orders-api orders-api=$IMAGE --namespace orders",
  );
  assert.equal(
    ops.scale(t, t.canaryDeployment, 0).command,
    "kubectl scale deployment/orders-api-canary --replicas=0 --namespace orders",
  );
});

test("named operations: their list is in the record's order, what the Role's rules come from", () => {
  const named = {
    removePod: ops.deletePod(t, "p"),
    createPod: ops.createPod(t, { name: "p", image: "i" }),
    podLogs: ops.podLogs(t, "p"),
  };
  assert.deepEqual(operationList(named), [named.removePod, named.createPod, named.podLogs]);
  assert.deepEqual(
    rulesFor(operationList(named)),
    rulesFor([ops.deletePod(t, "p"), ops.createPod(t, { name: "p", image: "i" }), ops.podLogs(t, "p")]),
  );
});

test("a command that takes a value at run time takes it as its argument: the manifest's file, the resourceVersion read", () => {
  assert.equal(
    ops.createPod(t, { name: "p", image: "i" }).command,
    'kubectl create --filename "$1" --namespace orders',
  );
  assert.match(
    ops.reapCanary(t).command,
    /--data "\{\\"metadata\\":\{\\"resourceVersion\\":\\"\$1\\"\},\\"spec\\":\{\\"replicas\\":0\}\}"/,
  );
});
