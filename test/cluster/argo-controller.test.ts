// Argo Rollouts' own controller on the real API server, before the project drives it: a Rollout's
// basic canary walks its steps, its web metric's requests reach the Service stand-in through
// HTTP_PROXY and are answered as the canary's pods would, a release whose pods answer 500 is
// aborted and its canary scaled to 0, and the kubectl plugin reports what the controller decided.
// The stand-in runs in this process, so everything here waits without blocking the event loop.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import {
  installArgoRolloutsCrds,
  servesErrorsMarker,
  startArgoRolloutsController,
  startServiceStandIn,
  type ArgoRolloutsController,
  type ServiceStandIn,
} from "../../test-control-plane/argo-rollouts";
import { adminKubectl, adminKubeconfig, toolsBin } from "./tier";

const ns = "argo-smoke";
const image = (digest: string) => `ghcr.io/acme/web@sha256:${digest}`;
const firstImage = image("1".repeat(64));
const secondImage = image("2".repeat(64));
const failingImage = image("3".repeat(64 - servesErrorsMarker.length) + servesErrorsMarker);

const run = promisify(execFile);
/** kubectl as the admin in the test's namespace, without blocking the stand-in. */
const kubectl = async (...args: string[]) =>
  (await run(path.join(toolsBin, "kubectl"), ["--kubeconfig", adminKubeconfig, "--namespace", ns, ...args])).stdout;
const getJson = async <T>(...args: string[]) => JSON.parse(await kubectl("get", ...args, "--output", "json")) as T;

interface Rollout {
  spec: { template: { spec: { containers: { image: string }[] } } };
  status?: {
    phase?: string;
    message?: string;
    abort?: boolean;
    currentStepIndex?: number;
    currentPodHash?: string;
    stableRS?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}
interface AnalysisRun {
  metadata: { name: string; labels?: Record<string, string> };
  status?: {
    phase?: string;
    message?: string;
    startedAt?: string;
    metricResults?: {
      name: string;
      phase: string;
      message?: string;
      measurements?: { phase: string; startedAt?: string; finishedAt?: string; message?: string }[];
    }[];
  };
}

const rollout = () => getJson<Rollout>("rollout", "web");

/** Polls every quarter second until `probe` holds; returns the seconds it took. */
async function waitFor(what: string, probe: () => Promise<boolean>, seconds = 60): Promise<number> {
  const start = Date.now();
  while (!(await probe().catch(() => false))) {
    if (Date.now() - start > seconds * 1000) {
      const status = await rollout().then((r) => JSON.stringify(r.status, null, 1), String);
      throw new Error(`timed out after ${seconds} s waiting for ${what}; the Rollout's status: ${status}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return (Date.now() - start) / 1000;
}

const setImage = (to: string) =>
  kubectl(
    "patch",
    "rollout",
    "web",
    "--type=json",
    `--patch=${JSON.stringify([{ op: "replace", path: "/spec/template/spec/containers/0/image", value: to }])}`,
  );

/** The pods of one ReplicaSet of the Rollout, by the hash label the controller gives them. */
const podsOfHash = async (hash: string) =>
  (await kubectl("get", "pods", "--selector", `rollouts-pod-template-hash=${hash}`, "--output", "name"))
    .split("\n")
    .filter(Boolean)
    .map((name) => name.replace(/^pod\//, ""));

const service = (name: string) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: ns },
  spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
});

const manifests = {
  apiVersion: "v1",
  kind: "List",
  items: [
    service("web"),
    service("web-canary"),
    service("web-stable"),
    {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "AnalysisTemplate",
      metadata: { name: "smoke", namespace: ns },
      spec: {
        metrics: [
          {
            name: "smoke",
            count: 2,
            interval: "1s",
            failureLimit: 0,
            consecutiveErrorLimit: 0,
            provider: { web: { url: `http://web-canary.${ns}.svc.cluster.local:80/healthz` } },
          },
        ],
      },
    },
    {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Rollout",
      metadata: { name: "web", namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "web", image: firstImage, ports: [{ name: "http", containerPort: 8080 }] }] },
        },
        strategy: {
          canary: {
            canaryService: "web-canary",
            stableService: "web-stable",
            steps: [{ setWeight: 50 }, { analysis: { templates: [{ templateName: "smoke" }] } }, { pause: {} }],
          },
        },
      },
    },
  ],
};

describe("Argo Rollouts' controller, on the real API server", () => {
  let standIn: ServiceStandIn;
  let controller: ArgoRolloutsController;
  /** The first version's ReplicaSet hash: the stable one throughout. */
  let firstHash: string | undefined;
  const seconds = (what: string, s: number) => console.log(`${what}: ${s.toFixed(1)} s`);

  before(async () => {
    installArgoRolloutsCrds();
    standIn = await startServiceStandIn();
    const started = Date.now();
    controller = await startArgoRolloutsController({ httpProxy: standIn.url });
    seconds("controller answering on healthz", (Date.now() - started) / 1000);
    adminKubectl(["create", "namespace", ns]);
  });
  after(async () => {
    await controller?.stop();
    await run(path.join(toolsBin, "kubectl"), [
      "--kubeconfig",
      adminKubeconfig,
      "delete",
      "namespace",
      ns,
      "--ignore-not-found",
      "--wait=false",
    ]).catch(() => undefined);
    await standIn?.close();
  });

  test("a: the first version becomes Healthy, and the controller points both Services at its pods", async () => {
    adminKubectl(["apply", "--filename", "-"], JSON.stringify(manifests));
    seconds(
      "first version Healthy",
      await waitFor("phase Healthy", async () => (await rollout()).status?.phase === "Healthy"),
    );
    firstHash = (await rollout()).status?.stableRS;
    assert.ok(firstHash);
    const selector = async (name: string) =>
      (await getJson<{ spec: { selector: Record<string, string> } }>("service", name)).spec.selector;
    for (const name of ["web-canary", "web-stable"]) {
      console.log(`${name} selector: ${JSON.stringify(await selector(name))}`);
      assert.deepEqual(await selector(name), { app: "web", "rollouts-pod-template-hash": firstHash }, name);
    }
    // The Service the Rollout does not name is left alone.
    assert.deepEqual(await selector("web"), { app: "web" });
  });

  test("b: a new good digest walks through setWeight and the analysis to the pause at step 2, on 200s from the new pods", async () => {
    const from = standIn.requests.length;
    await setImage(secondImage);
    seconds(
      "new digest to Paused at step 2",
      await waitFor(
        "phase Paused at step 2",
        async () => {
          const { status } = await rollout();
          return status?.phase === "Paused" && status.currentStepIndex === 2;
        },
        60,
      ),
    );
    const { status } = await rollout();
    const canaryPods = await podsOfHash(status!.currentPodHash!);
    const served = standIn.requests.slice(from).filter((r) => r.service === "web-canary");
    console.log(`stand-in: ${JSON.stringify(served)}`);
    assert.equal(served.length, 2, "count: 2 measurements");
    for (const request of served) {
      assert.deepEqual([request.namespace, request.path, request.status], [ns, "/healthz", 200]);
      assert.ok(
        canaryPods.includes(request.pod!),
        `${request.pod} is a pod of the new ReplicaSet ${canaryPods.join(", ")}`,
      );
    }
    const runs = await getJson<{ items: AnalysisRun[] }>("analysisruns");
    const analysis = runs.items.find(
      (r) => r.metadata.labels?.["rollouts-pod-template-hash"] === status!.currentPodHash,
    );
    assert.equal(analysis?.status?.phase, "Successful");
    // The API server keeps whole seconds: the run's span is as coarse.
    const measured = analysis.status.metricResults?.[0].measurements ?? [];
    const span = (Date.parse(measured.at(-1)?.finishedAt ?? "") - Date.parse(analysis.status.startedAt ?? "")) / 1000;
    console.log(`analysis ${analysis.metadata.name}: ${measured.length} measurements in ${span} s (whole seconds)`);
  });

  test("c: a digest whose pods answer 500 is aborted, and its canary scaled to 0", async () => {
    const from = standIn.requests.length;
    await setImage(failingImage);
    const started = Date.now();
    seconds(
      "failing digest to aborted and Degraded",
      await waitFor("abort and phase Degraded", async () => {
        const { status } = await rollout();
        return status?.abort === true && status.phase === "Degraded";
      }),
    );
    const { status } = await rollout();
    console.log(`status.message: ${status?.message}`);
    console.log(
      `conditions: ${JSON.stringify(status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message]))}`,
    );
    assert.match(status?.message ?? "", /^RolloutAborted: .*received non 2xx response code: 500/);
    assert.equal(status?.stableRS, firstHash, "the first version stays stable");
    const hash = status!.currentPodHash!;
    await waitFor(
      "the canary ReplicaSet at 0",
      async () => {
        const rs = await getJson<{ items: { spec: { replicas: number } }[] }>(
          "replicasets",
          "--selector",
          `rollouts-pod-template-hash=${hash}`,
        );
        return rs.items.length === 1 && rs.items[0].spec.replicas === 0;
      },
      Math.max(1, 60 - (Date.now() - started) / 1000),
    );
    seconds("failing digest to its canary ReplicaSet at 0", (Date.now() - started) / 1000);
    const served = standIn.requests.slice(from).filter((r) => r.service === "web-canary");
    console.log(`stand-in: ${JSON.stringify(served)}`);
    assert.ok(
      served.some((r) => r.status === 500),
      "the stand-in answered 500 for the failing pods",
    );
    const runs = await getJson<{ items: AnalysisRun[] }>("analysisruns");
    const analysis = runs.items.find((r) => r.metadata.labels?.["rollouts-pod-template-hash"] === hash);
    console.log(`analysis: ${analysis?.status?.phase}: ${analysis?.status?.message}`);
    assert.equal(analysis?.status?.phase, "Error");
  });

  test("d: the kubectl plugin reports the Rollout Degraded", async () => {
    const status = await run(path.join(toolsBin, "kubectl-argo-rollouts"), [
      "--kubeconfig",
      adminKubeconfig,
      "status",
      "web",
      "--namespace",
      ns,
      "--timeout",
      "5s",
    ]).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code,
        stdout: error.stdout ?? "",
        stderr: error.stderr ?? "",
      }),
    );
    console.log(`kubectl-argo-rollouts status: exit ${status.code}\n${status.stdout}${status.stderr}`);
    assert.match(status.stdout, /^Degraded/m);
    assert.notEqual(status.code, 0);
  });
});
