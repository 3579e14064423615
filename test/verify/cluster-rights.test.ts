// The kubectl reader and the rights check, on the real smoke-test runner and catalogue commands,
// and on scripts broken on purpose.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { clusterOperations as ops, clusterTargets, operationList } from "../../components/shared/cluster-operations";
import { rulesFor } from "../../components/shared/rbac-rules";
import { smokeTestOperations, smokeTestRunner } from "../../components/shared/smoke-test";
import { reaperScript } from "../../components/shared/canary-expiry";
import { checkClusterRights } from "../../verify/cluster-rights";
import { curlRequests } from "../../verify/pod-requests";
import { apiRequests, kubectlCommands } from "../../verify/kubectl";

const t = clusterTargets({ appName: "orders-api", namespace: "orders" });
const smoke = { targets: t, podName: t.smokeTestPod, appName: "orders-api", paths: ["/healthz"], maxLatencySeconds: 1 };
const runner = smokeTestRunner(smoke);
const deployOps = [
  ops.setImage(t, t.canaryDeployment, "$IMAGE"),
  ops.scale(t, t.canaryDeployment, 1),
  ops.rolloutStatus(t, t.canaryDeployment, "5m"),
  ops.canaryPodImages(t),
];
const script = [...deployOps.map((o) => o.command), runner].join("\n");
const rules = rulesFor([...deployOps, ...operationList(smokeTestOperations(smoke))]);

describe("reading kubectl out of scripts", () => {
  test("finds every invocation, through the preamble's functions, including inside traps and command substitutions, and skips heredoc bodies", () => {
    const { commands, files } = kubectlCommands(runner);
    assert.deepEqual(
      commands.map((c) => c.argv.slice(0, 2).join(" ")),
      [
        // pod-wait.sh, ahead of the runner's text: read_pod_phase's, then remove_pod_and_wait's.
        "get pod/orders-api-smoke-test",
        "get pod/orders-api-smoke-test",
        "delete pod/orders-api-smoke-test",
        // The runner's trap.
        "delete pod/orders-api-smoke-test",
        "create --filename",
        "logs pod/orders-api-smoke-test",
        "logs pod/orders-api-smoke-test",
      ],
    );
    assert.ok(files.get("$SMOKE_POD_MANIFEST")?.includes('"kind": "Pod"'));
    assert.equal(
      commands.find((c) => c.argv[0] === "create")?.text,
      "kubectl create --filename $SMOKE_POD_MANIFEST --namespace orders",
      "the function's \"$1\" is its call's word",
    );
  });
  test("maps commands to the API requests kubectl makes", () => {
    const req = (text: string) =>
      apiRequests({ text, argv: text.split(" ").slice(1) }).map((r) => `${r.resource} ${r.verb} ${r.name ?? "-"}`);
    assert.deepEqual(req("kubectl scale deployment/x --replicas=2 -n ns"), [
      "deployments get x",
      "deployments/scale patch x",
    ]);
    assert.deepEqual(req("kubectl rollout status deployment/x -n ns"), [
      "deployments get x",
      "deployments list x",
      "deployments watch x",
    ]);
    assert.deepEqual(req("kubectl rollout undo deployment/x -n ns"), [
      "deployments get x",
      "deployments patch x",
      "replicasets list -",
    ]);
    assert.deepEqual(req("kubectl get pods -l app=x -n ns"), ["pods list -"]);
    assert.deepEqual(req("kubectl delete pod/p --wait=false -n ns"), ["pods delete p"]);
  });
  test("an unknown command is an error, not a skip", () => {
    assert.throws(
      () => apiRequests({ text: "kubectl exec", argv: ["exec", "pod/x", "--", "sh"] }),
      /not a command this verifier knows/,
    );
  });
});

describe("the Role against the scripts", () => {
  test("the catalogue's Role grants exactly what the scripts request", () => {
    assert.deepEqual(checkClusterRights([script], rules, "orders"), {
      missing: [],
      unused: [],
      unknown: [],
      foreignNamespace: [],
    });
  });
  test("a command the Role does not cover is missing", () => {
    const findings = checkClusterRights(
      [`${script}\nkubectl rollout undo deployment/orders-api --namespace orders`],
      rules,
      "orders",
    );
    assert.deepEqual(findings.missing, [
      "apps/deployments get orders-api",
      "apps/deployments patch orders-api",
      "apps/replicasets list",
    ]);
  });
  test("a rule no command needs is unused", () => {
    const findings = checkClusterRights(
      [script],
      [...rules, { apiGroups: [""], resources: ["secrets"], verbs: ["get"] }],
      "orders",
    );
    assert.deepEqual(findings.unused, ["core/secrets get *"]);
  });
  test("an unrestricted grant where named ones suffice is unused", () => {
    const findings = checkClusterRights(
      [script],
      [...rules, { apiGroups: ["apps"], resources: ["deployments"], verbs: ["patch"] }],
      "orders",
    );
    assert.deepEqual(findings.unused, ["apps/deployments patch *"]);
  });
  test("an unknown command and another namespace are findings", () => {
    const findings = checkClusterRights(
      [`${script}\nkubectl exec pod/x -- sh\nkubectl get pods -l a=b -n kube-system`],
      rules,
      "orders",
    );
    assert.equal(findings.unknown.length, 1);
    assert.deepEqual(findings.foreignNamespace, ["core/pods list in namespace kube-system"]);
  });
});

describe("the API requests of a pod's curl commands", () => {
  test("the reaper's script: get the canary Deployment, patch its scale, in its namespace", () => {
    const t = clusterTargets({ appName: "orders-api", namespace: "orders" });
    assert.deepEqual(curlRequests(reaperScript(t)), {
      requests: [
        { apiGroup: "apps", resource: "deployments", verb: "get", name: "orders-api-canary", namespace: "orders" },
        {
          apiGroup: "apps",
          resource: "deployments/scale",
          verb: "patch",
          name: "orders-api-canary",
          namespace: "orders",
        },
      ],
      unknown: [],
    });
  });
  test("methods map to the authoriser's verbs; a list has no name; a core path has no group; what is not an API path is unknown", () => {
    const { requests, unknown } = curlRequests(
      [
        'curl --request DELETE "$API_SERVER/api/v1/namespaces/orders/pods/x"',
        'curl "$API_SERVER/api/v1/namespaces/orders/secrets"',
        'curl -X PUT "$API_SERVER/apis/batch/v1/namespaces/orders/jobs/j/status"',
        "curl https://example.com/",
      ].join("\n"),
    );
    assert.deepEqual(requests, [
      { apiGroup: "", resource: "pods", verb: "delete", name: "x", namespace: "orders" },
      { apiGroup: "", resource: "secrets", verb: "list", namespace: "orders" },
      { apiGroup: "batch", resource: "jobs/status", verb: "update", name: "j", namespace: "orders" },
    ]);
    assert.deepEqual(unknown, ["curl https://example.com/"]);
  });
});
