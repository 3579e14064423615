// The workload: Service/Deployment selector relations of a canary by replica ratio, the canary at
// rest, probes, hardening, the disruption budget, the network policy, and release ownership
// (client-side apply, ignoreChanges on what the pipeline owns).
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument --
   rendered objects are untyped YAML. */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as k8s from "@pulumi/kubernetes";
import { projectName } from "../../../config/schema";
import { CanaryWorkload, releaseOwnedPaths } from "../../../components/cluster/canary-workload";
import { ClientSideApplyProvider } from "../../../components/cluster/client-side-apply-provider";
import { servicePort } from "../../../components/shared/smoke-test";
import {
  probeTiming,
  progressDeadlineSeconds,
  startupFailureThreshold,
} from "../../../components/shared/rollout-timing";
import { runProgram } from "../../../testing/mock-engine";
import {
  parsePropertyPath,
  podSpecs,
  renderCluster,
  restrictedProblems,
  stackConfig,
  valueAt,
  type ClusterRender,
} from "../cluster-render";

const stable = "Deployment.orders-dev.orders-api";
const canary = "Deployment.orders-dev.orders-api-canary";
const mainService = "Service.orders-dev.orders-api";
const canaryService = "Service.orders-dev.orders-api-canary";
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe("canary workload", () => {
  let r: ClusterRender;
  before(async () => {
    r = await renderCluster(stackConfig("eks"));
  });

  test("the main Service selects `app` only, so it reaches both tracks; the canary Service only canary pods", () => {
    const stablePods = r.object(stable).spec.template.metadata.labels;
    const canaryPods = r.object(canary).spec.template.metadata.labels;
    assert.deepEqual(r.object(mainService).spec.selector, { app: "orders-api" });
    assert.deepEqual(r.object(canaryService).spec.selector, { app: "orders-api", track: "canary" });
    assert.ok(
      selects(r.object(mainService).spec.selector, stablePods) &&
        selects(r.object(mainService).spec.selector, canaryPods),
    );
    assert.ok(
      selects(r.object(canaryService).spec.selector, canaryPods) &&
        !selects(r.object(canaryService).spec.selector, stablePods),
    );
  });

  test("each Deployment's selector includes `track`, matches its own pods and not the other's", () => {
    for (const [own, other, track] of [
      [stable, canary, "stable"],
      [canary, stable, "canary"],
    ] as const) {
      const selector = r.object(own).spec.selector.matchLabels;
      assert.equal(selector.track, track);
      assert.ok(selects(selector, r.object(own).spec.template.metadata.labels));
      assert.ok(!selects(selector, r.object(other).spec.template.metadata.labels));
    }
  });

  test("both Services target the port named `http`, which both containers declare", () => {
    for (const s of [mainService, canaryService]) {
      assert.deepEqual(r.object(s).spec.ports, [
        { name: "http", port: servicePort, targetPort: "http", protocol: "TCP" },
      ]);
    }
    for (const d of [stable, canary]) {
      const [container] = r.object(d).spec.template.spec.containers;
      assert.deepEqual(container.ports, [{ name: "http", containerPort: 3000, protocol: "TCP" }]);
      assert.equal(container.name, "orders-api");
      assert.equal(container.image, "ghcr.io/acme/orders-api:1.4.2");
    }
  });

  test("stable runs `replicas`; the canary has 0 replicas at rest", () => {
    assert.equal(r.object(stable).spec.replicas, 9);
    assert.equal(r.object(canary).spec.replicas, 0);
    assert.equal(r.cluster.canaryReplicas, 1);
  });

  test("rollouts never go below capacity and count a pod only after it stayed ready", () => {
    for (const d of [stable, canary]) {
      const spec = r.object(d).spec;
      assert.equal(spec.strategy.rollingUpdate.maxUnavailable, 0);
      assert.ok(spec.minReadySeconds > 0);
      const keys = (spec.template.spec.topologySpreadConstraints as { topologyKey: string }[]).map(
        (c) => c.topologyKey,
      );
      assert.deepEqual(keys, ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
    }
  });

  test("a startupProbe holds the other probes until the health path first answers, within startupSeconds; readiness and liveness take probeTiming", () => {
    for (const d of [stable, canary]) {
      const [container] = r.object(d).spec.template.spec.containers;
      const health = { path: "/healthz", port: "http", scheme: "HTTP" };
      assert.deepEqual(container.startupProbe, {
        httpGet: health,
        periodSeconds: probeTiming.startupPeriodSeconds,
        timeoutSeconds: probeTiming.readinessTimeoutSeconds,
        failureThreshold: startupFailureThreshold(r.config),
      });
      assert.ok(
        container.startupProbe.periodSeconds * container.startupProbe.failureThreshold >= r.config.startupSeconds,
      );
      assert.deepEqual(container.readinessProbe, {
        httpGet: health,
        periodSeconds: probeTiming.readinessPeriodSeconds,
        timeoutSeconds: probeTiming.readinessTimeoutSeconds,
        failureThreshold: probeTiming.readinessFailureThreshold,
      });
      // No initial delay: the startupProbe covers start-up.
      assert.deepEqual(container.livenessProbe, {
        httpGet: health,
        periodSeconds: probeTiming.livenessPeriodSeconds,
        timeoutSeconds: probeTiming.livenessTimeoutSeconds,
        failureThreshold: probeTiming.livenessFailureThreshold,
      });
      assert.ok(
        container.livenessProbe.failureThreshold * container.livenessProbe.periodSeconds >
          container.readinessProbe.failureThreshold * container.readinessProbe.periodSeconds,
      );
    }
  });

  test("livenessPath moves the liveness probe only; startupSeconds sets the startup allowance", async () => {
    const other = await renderCluster(stackConfig("eks", { livenessPath: "/livez", startupSeconds: 120 }));
    const [container] = other.object(stable).spec.template.spec.containers;
    assert.equal(container.livenessProbe.httpGet.path, "/livez");
    assert.equal(container.readinessProbe.httpGet.path, "/healthz");
    assert.equal(container.startupProbe.httpGet.path, "/healthz");
    assert.equal(container.startupProbe.failureThreshold, 120 / probeTiming.startupPeriodSeconds);
    assert.equal(
      other.object(stable).spec.progressDeadlineSeconds,
      progressDeadlineSeconds({ startupSeconds: 120, minReadySeconds: 10 }),
    );
  });

  test("both Deployments fail a rollout step that makes no progress for one pod's bound (progressDeadlineSeconds)", () => {
    for (const d of [stable, canary]) {
      assert.equal(r.object(d).spec.progressDeadlineSeconds, progressDeadlineSeconds(r.config));
      assert.equal(r.object(d).spec.minReadySeconds, r.config.minReadySeconds);
    }
    // 60 s to schedule and pull, 60 s to start, a readiness probe (5 + 2 s), 10 s ready.
    assert.equal(progressDeadlineSeconds(r.config), 137);
  });

  test("every pod meets the restricted profile, with a writable /tmp only", () => {
    for (const d of [stable, canary]) {
      const [spec] = podSpecs(r.object(d));
      assert.deepEqual(restrictedProblems(spec), []);
      const pod = r.object(d).spec.template.spec;
      assert.equal(pod.serviceAccountName, "orders-api");
      assert.deepEqual(pod.volumes, [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }]);
      assert.deepEqual(pod.containers[0].volumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);
    }
    // The checker itself fails on a violation.
    const broken = structuredClone(r.object(stable).spec.template.spec);
    broken.containers[0].securityContext.allowPrivilegeEscalation = true;
    assert.deepEqual(restrictedProblems(broken), ["orders-api: allowPrivilegeEscalation is not false"]);
  });

  test("the app's ServiceAccount mounts no API token", () => {
    assert.equal(r.object("ServiceAccount.orders-dev.orders-api").automountServiceAccountToken, false);
  });

  test("the PodDisruptionBudget covers the stable track only, so an unready canary pod cannot use it up, and still allows a disruption", () => {
    const pdb = r.object("PodDisruptionBudget.orders-dev.orders-api").spec;
    assert.deepEqual(pdb.selector.matchLabels, { app: "orders-api", track: "stable" });
    assert.ok(selects(pdb.selector.matchLabels, r.object(stable).spec.template.metadata.labels));
    assert.ok(!selects(pdb.selector.matchLabels, r.object(canary).spec.template.metadata.labels));
    assert.equal(pdb.maxUnavailable, 1);
    assert.equal(pdb.unhealthyPodEvictionPolicy, "AlwaysAllow");
  });

  const port = [{ protocol: "TCP", port: 3000 }];
  test("by default the NetworkPolicy admits any source on the container port only, so no ingress controller is cut off", () => {
    const policy = r.object("NetworkPolicy.orders-dev.orders-api").spec;
    assert.deepEqual(policy.podSelector, { matchLabels: { app: "orders-api" } });
    assert.deepEqual(policy.policyTypes, ["Ingress"]);
    assert.deepEqual(policy.ingress, [{ ports: port }]);
  });

  test("networkPolicyIngress: the namespace's own pods and the listed namespaces, pods and address blocks, on the container port", async () => {
    const other = await renderCluster(
      stackConfig("eks", {
        networkPolicyIngress: [
          { namespace: "ingress-nginx" },
          { namespace: "monitoring", podLabels: { "app.kubernetes.io/name": "prometheus" } },
          { cidr: "10.0.0.0/8" },
          { cidr: "fd00::/8" },
        ],
      }),
    );
    assert.deepEqual(other.object("NetworkPolicy.orders-dev.orders-api").spec.ingress, [
      {
        from: [
          { podSelector: {} },
          { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } },
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
          },
          { ipBlock: { cidr: "10.0.0.0/8" } },
          { ipBlock: { cidr: "fd00::/8" } },
        ],
        ports: port,
      },
    ]);
    const own = await renderCluster(stackConfig("eks", { networkPolicyIngress: [] }));
    assert.deepEqual(own.object("NetworkPolicy.orders-dev.orders-api").spec.ingress, [
      { from: [{ podSelector: {} }], ports: port },
    ]);
  });
});

describe("release ownership", () => {
  let r: ClusterRender;
  before(async () => {
    r = await renderCluster(stackConfig("token"), { ghcrPullToken: "ghp_mock" });
  });

  test("one provider, with server-side apply off, declares every Kubernetes object", () => {
    const providers = r.ofType("pulumi:providers:kubernetes");
    assert.equal(providers.length, 1);
    assert.equal(String(providers[0].inputs.enableServerSideApply), "false");
    const objects = r.captured.filter((c) => c.type.startsWith("kubernetes:"));
    assert.equal(objects.length, r.objects.size);
    for (const c of objects) assert.equal(c.opts.provider, r.cluster.provider, c.name);
    assert.ok(r.cluster.provider instanceof ClientSideApplyProvider);
  });

  test("the pipeline's fields are ignored: both images, and the canary's replicas", () => {
    assert.deepEqual(r.options("orders-workload-stable").opts.ignoreChanges, [releaseOwnedPaths.image]);
    assert.deepEqual(r.options("orders-workload-canary").opts.ignoreChanges, [
      releaseOwnedPaths.image,
      releaseOwnedPaths.replicas,
    ]);
    const ignoring = r.captured
      .filter((c) => (c.opts.ignoreChanges ?? []).length > 0)
      .map((c) => c.name)
      .sort();
    assert.deepEqual(ignoring, ["orders-workload-canary", "orders-workload-stable"]);
  });

  test("the ignored paths parse as the engine parses them and address the image and the replica count", () => {
    assert.deepEqual(parsePropertyPath(releaseOwnedPaths.image), [
      "spec",
      "template",
      "spec",
      "containers",
      0,
      "image",
    ]);
    assert.deepEqual(parsePropertyPath(releaseOwnedPaths.replicas), ["spec", "replicas"]);
    for (const name of ["orders-workload-stable", "orders-workload-canary"]) {
      const inputs = r.resources.find((x) => x.name === name)!.inputs as {
        spec: { template: { spec: { containers: unknown[] } } };
      };
      assert.equal(inputs.spec.template.spec.containers.length, 1, "index 0 is the only container");
      assert.equal(valueAt(inputs, parsePropertyPath(releaseOwnedPaths.image)), "ghcr.io/acme/orders-api:1.4.2");
    }
    assert.equal(
      valueAt(
        r.resources.find((x) => x.name === "orders-workload-canary")!.inputs,
        parsePropertyPath(releaseOwnedPaths.replicas),
      ),
      0,
    );
    // The resolver does fail on a path that addresses nothing, and the parser on a bad index.
    assert.equal(
      valueAt(
        r.resources.find((x) => x.name === "orders-workload-stable")!.inputs,
        parsePropertyPath("spec.template.spec.containers[1].image"),
      ),
      undefined,
    );
    assert.throws(() => parsePropertyPath("spec.containers[first].image"), /invalid array index/);
  });

  test("nothing forces a patch over other field managers", () => {
    for (const [path, content] of r.files) assert.ok(!content.includes("pulumi.com/patchForce"), path);
  });

  test("a CanaryWorkload on its own declares its own client-side-apply provider", async () => {
    let workload: CanaryWorkload | undefined;
    const { resources } = await runProgram({
      project: projectName,
      stack: "test",
      config: {},
      secretKeys: [],
      program: () => {
        workload = new CanaryWorkload("w", {
          appName: "a",
          namespace: "n",
          containerPort: 8080,
          healthPath: "/h",
          replicas: 2,
          initialImage: "ghcr.io/acme/a:1",
        });
      },
    });
    assert.ok(workload!.provider instanceof ClientSideApplyProvider);
    const provider = resources.filter((x) => x.type === "pulumi:providers:kubernetes");
    assert.deepEqual(
      provider.map((p) => [p.name, String(p.inputs.enableServerSideApply)]),
      [["w-provider", "false"]],
    );
    assert.ok(provider[0].parent?.endsWith("::w"));
    // The type refuses a provider that might apply server-side.
    const refused: ConstructorParameters<typeof CanaryWorkload>[1] = {
      appName: "a",
      namespace: "n",
      containerPort: 1,
      healthPath: "/",
      replicas: 1,
      initialImage: "x:1",
      // @ts-expect-error a plain k8s.Provider is not a ClientSideApplyProvider
      provider: {} as k8s.Provider,
    };
    void refused;
  });
});
