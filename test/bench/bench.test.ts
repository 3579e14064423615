// The bench's parts on a small case, so CI stays fast: the dependency depth and the flat replay
// baseline (npm run bench runs them at 1, 10 and 50 services).
import assert from "node:assert/strict";
import { test } from "node:test";
import { runProgram, secretMarker, type RegisteredResource } from "../../testing/mock-engine";
import { renderStack } from "../../synth/render";
import { readStackFile } from "../../config/stack-file";
import { projectName } from "../../config/schema";
import { byTopComponent, dependencyDepth, orderOnlyEdges } from "../../bench/graph";
import { benchProgram } from "../../bench/program";
import { replayProgram, sdkClass } from "../../bench/replay";
import { orderOnlyReasons } from "../../bench/run";

const run = (program: () => unknown) =>
  runProgram({ project: projectName, stack: "bench", config: {}, secretKeys: [], program });
const key = (r: RegisteredResource) => `${r.type}::${r.name}`;

test("the dev stack's depth is the minimum its data requires; every dependsOn has a reason", async () => {
  const { resources } = await renderStack({ stack: "dev", settings: readStackFile("Pulumi.dev.yaml") });
  const depth = dependencyDepth(resources);
  // The longest chain is the data's, or the commits to the deploy branch, whichever is longer: the
  // environment, its branch policy, then each workflow file after the one before it (parallel
  // commits to one branch fail 409; dev commits deploy-dev, ci, infra-preview and drift-dev).
  const commits = resources.filter((r) => r.type === "github:index/repositoryFile:RepositoryFile").length;
  assert.equal(depth.dataDepth, 4);
  assert.equal(depth.depth, Math.max(depth.dataDepth, 2 + commits), depth.chain.join(" → "));
  for (const edge of orderOnlyEdges(resources).keys())
    assert.ok(edge in orderOnlyReasons, `unexplained dependsOn: ${edge}`);
});

test("a longest chain is found on a small graph, and components count for nothing", () => {
  const r = (urn: string, dependencies: string[], custom = true, orderOnly?: string[]): RegisteredResource => ({
    urn,
    type: "t",
    name: urn,
    dependencies,
    inputs: {},
    custom,
    ...(orderOnly ? { orderOnly } : {}),
  });
  const graph = [r("a", []), r("b", ["a"]), r("c", ["b"], false), r("d", ["c", "a"], true, ["c"]), r("e", [])];
  assert.deepEqual(dependencyDepth(graph), { depth: 3, dataDepth: 2, chain: ["a", "b", "d"] });
});

test("two services: the same depth each, and the replay registers the same resources with the same inputs, order and providers", async () => {
  const { resources } = await run(benchProgram(2));
  const services = [...byTopComponent(resources)].filter(([name]) => name.startsWith("svc-"));
  assert.equal(services.length, 2);
  // Each service's longest chain is its data's, or its smoke test's wait for its workloads: an
  // order-only edge (Command ← Deployment), since the command's triggers are the declared specs,
  // which carry no release and so no data from the Deployments. That wait adds one step at most.
  const depths = services.map(([, group]) => dependencyDepth(group));
  assert.equal(new Set(depths.map((d) => d.depth)).size, 1, `the same depth each: ${JSON.stringify(depths)}`);
  for (const d of depths) {
    assert.ok(
      d.depth === d.dataDepth || (d.depth === d.dataDepth + 1 && d.chain.at(-1)!.endsWith("-smoke-test-command")),
      JSON.stringify(d),
    );
  }

  const replayed = (await run(replayProgram(resources))).resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
  const custom = resources.filter((r) => r.custom);
  assert.deepEqual(replayed.map(key).sort(), custom.map(key).sort());
  assert.ok(
    replayed.every((r) => r.parent === undefined || r.parent.endsWith("::pulumi:pulumi:Stack::canary-pipeline-bench")),
    "flat",
  );
  for (const r of custom) assert.ok(sdkClass(r.type) !== undefined, `${r.type} replays through its SDK class`);
  const byKey = new Map(replayed.map((r) => [key(r), r]));
  const urnToKey = new Map([...resources, ...replayed].map((r) => [r.urn, key(r)]));
  const customKeys = new Set(custom.map(key));
  for (const r of custom) {
    const twin = byKey.get(key(r))!;
    const deps = (x: RegisteredResource) =>
      x.dependencies
        .map((d) => urnToKey.get(d))
        .filter((k) => k !== undefined && customKeys.has(k))
        .sort();
    assert.deepEqual(deps(twin), deps(r), `${r.name} waits for the same resources`);
    const provider = (x: RegisteredResource) => (x.provider === undefined ? undefined : urnToKey.get(x.provider));
    assert.equal(provider(twin), provider(r), `${r.name} goes through the same provider`);
  }
  assert.ok(
    custom.some((r) => r.type.startsWith("kubernetes:") && r.provider?.includes("pulumi:providers:kubernetes")),
    "the Kubernetes objects go through a Kubernetes provider",
  );
  // Secrets stay secret: the token service's kubeconfig.
  const kubeconfig = byKey.get(
    "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret::svc-1-repository-kubeconfig",
  )!;
  assert.ok(secretMarker in (kubeconfig.inputs.plaintextValue as object));
  assert.deepEqual(dependencyDepth(replayed).depth, dependencyDepth(custom).depth);
});
