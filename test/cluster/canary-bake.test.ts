// The bake window's runner, the exact bash script of the canary job's step, run as a deployer
// holding only the rules its operations derive (rulesFor of bakeOperations' list), against the tier's
// cluster: a passing report passes, a failing one fails before the window ends, and a canary pod
// that turns unready or restarts during the bake fails it at once. kwok runs no container: the
// bake pod "prints" bakeLogFile and completes 3 s after it runs (test-control-plane/stages.yaml).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { bakeOperations, bakeRunner, type BakeSpec } from "../../components/shared/canary-bake";
import { clusterTargets, operationList } from "../../components/shared/cluster-operations";
import { rulesFor } from "../../components/shared/rbac-rules";
import { adminKubectl, bakeLogFile, certificateKubeconfig, kubeconfigFile, toolsBin, waitUntil } from "./tier";
import { writeBakeReport } from "./release";

const ns = "bake-tier";
const targets = clusterTargets({ appName: "orders-api", namespace: ns });
const spec: BakeSpec = {
  targets,
  appName: "orders-api",
  podName: targets.bakePod,
  bakeSeconds: 8,
  intervalSeconds: 4,
  paths: ["/healthz"],
  maxLatencySeconds: 1,
};
const restricted = {
  allowPrivilegeEscalation: false,
  runAsNonRoot: true,
  runAsUser: 1000,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};
const apply = (object: unknown) => adminKubectl(["apply", "--filename", "-"], JSON.stringify(object));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  summary: string;
}

describe("the bake window's runner, as the deployer, against the cluster", () => {
  let kubeconfig: string;
  let dir: string;
  const canaryPods = () =>
    adminKubectl([
      "get",
      "pods",
      "--selector",
      targets.canarySelector,
      "--namespace",
      ns,
      "--output",
      "jsonpath={.items[*].metadata.name}",
    ])
      .split(" ")
      .filter(Boolean);
  const readyOf = (pod: string) =>
    adminKubectl([
      "get",
      "pod",
      pod,
      "--namespace",
      ns,
      "--output",
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]);
  const allReady = () => {
    const pods = canaryPods();
    return pods.length === 2 && pods.every((p) => readyOf(p) === "True");
  };

  /** Runs the runner; `during` runs (as the admin) once the bake pod exists. */
  function runBake(during?: () => void): Promise<Run> {
    const summary = path.join(dir, `summary-${Date.now()}.md`);
    const env = {
      PATH: `${toolsBin}:/usr/bin:/bin`,
      HOME: dir,
      TMPDIR: dir,
      KUBECONFIG: kubeconfig,
      GITHUB_STEP_SUMMARY: summary,
    };
    const started = Date.now();
    const child = spawn("bash", ["-c", bakeRunner(spec)], { env });
    let stdout = "",
      stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    if (during) {
      const poll = setInterval(() => {
        try {
          adminKubectl(["get", "pod", spec.podName, "--namespace", ns]);
          clearInterval(poll);
          during();
        } catch {
          /* not yet */
        }
      }, 300);
      child.once("exit", () => clearInterval(poll));
    }
    return new Promise((resolve) =>
      child.once("exit", (status) =>
        resolve({
          status,
          stdout,
          stderr,
          seconds: (Date.now() - started) / 1000,
          summary: fs.existsSync(summary) ? fs.readFileSync(summary, "utf8") : "",
        }),
      ),
    );
  }

  before(() => {
    dir = fs.mkdtempSync(path.join(path.dirname(bakeLogFile), "bake-"));
    apply({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns, labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
    });
    apply({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: targets.canaryDeployment, namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "orders-api", track: "canary" } },
        template: {
          metadata: { labels: { app: "orders-api", track: "canary" } },
          spec: {
            containers: [{ name: "orders-api", image: "ghcr.io/acme/orders-api:1.4.2", securityContext: restricted }],
          },
        },
      },
    });
    // The deployer: a user holding exactly the rules of the bake's operations.
    apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "bake-deployer", namespace: ns },
      rules: rulesFor(operationList(bakeOperations(spec))),
    });
    apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "bake-deployer", namespace: ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "bake-deployer" },
      subjects: [{ kind: "User", name: "bake-deployer" }],
    });
    kubeconfig = kubeconfigFile(certificateKubeconfig("bake-deployer", []));
    waitUntil("two ready canary pods", allReady, 60);
  });
  after(() => {
    adminKubectl(["delete", "namespace", ns, "--wait=false", "--ignore-not-found"]);
  });

  test("a passing report passes after the whole window; the pod is removed and the summary has the table", async () => {
    writeBakeReport([
      "PASS canary 200 0.004s http://orders-api-canary.bake-tier.svc.cluster.local:80/healthz",
      "RESULT pass",
    ]);
    const run = await runBake();
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^RESULT pass$/m);
    assert.ok(run.seconds >= spec.bakeSeconds, `${run.seconds} s`);
    assert.match(run.summary, /### Bake window \(8 s\)[\s\S]*- passed[\s\S]*\| PASS \| canary \| 200 0\.004s http:/);
    assert.throws(() => adminKubectl(["get", "pod", spec.podName, "--namespace", ns]), /NotFound/);
  });

  test("a failing report fails as soon as the runner reads it, before the window ends", async () => {
    writeBakeReport(["FAIL error-ratio canary=0.12 stable=0.01 max=0.05", "RESULT fail"]);
    const run = await runBake();
    assert.notEqual(run.status, 0);
    assert.match(run.stdout, /^RESULT fail$/m);
    assert.match(run.stdout, /::error::canary bake: the bake pod judged the canary failed/);
    assert.ok(run.seconds < spec.bakeSeconds, `${run.seconds} s`);
    assert.match(run.summary, /- failed: [\s\S]*\| FAIL \| error-ratio \| canary=0\.12 stable=0\.01 max=0\.05 \|/);
  });

  test("a canary pod turning unready during the bake fails it at once", async () => {
    writeBakeReport(["RESULT pass"]);
    const [victim] = canaryPods();
    const run = await runBake(() =>
      adminKubectl([
        "patch",
        "pod",
        victim,
        "--namespace",
        ns,
        "--subresource=status",
        "--type=strategic",
        "--patch",
        JSON.stringify({ status: { conditions: [{ type: "Ready", status: "False" }] } }),
      ]),
    );
    assert.notEqual(run.status, 0, run.stdout);
    assert.match(run.stdout, new RegExp(`::error::canary bake: canary pod ${victim} is not ready`));
    assert.ok(run.seconds < spec.bakeSeconds, `${run.seconds} s`);
    // kwok leaves a Running pod's status as patched (its pod-ready stage selects Pending pods only).
    assert.equal(readyOf(victim), "False");
    adminKubectl(["delete", "pod", victim, "--namespace", ns]);
    waitUntil("two ready canary pods again", allReady, 60);
  });

  test("a canary pod restarting during the bake fails it at once", async () => {
    writeBakeReport(["RESULT pass"]);
    const [victim] = canaryPods();
    const run = await runBake(() =>
      adminKubectl([
        "patch",
        "pod",
        victim,
        "--namespace",
        ns,
        "--subresource=status",
        "--type=json",
        "--patch",
        JSON.stringify([{ op: "replace", path: "/status/containerStatuses/0/restartCount", value: 1 }]),
      ]),
    );
    assert.notEqual(run.status, 0, run.stdout);
    assert.match(
      run.stdout,
      new RegExp(`::error::canary bake: canary pod ${victim} restarted \\(1 restarts, 0 when the bake began\\)`),
    );
    assert.ok(run.seconds < spec.bakeSeconds, `${run.seconds} s`);
  });
});
