// npm run bench: renders a platform program of 1, 10 and 50 services offline (bench/program.ts),
// each measurement in a fresh process (bench/measure.ts), and the flat replay of the same
// resources as the baseline (bench/replay.ts); then the dependency depth of each render
// (bench/graph.ts). Writes docs/benchmarks.md and exits 1 when a target does not hold.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import type { RegisteredResource } from "../testing/mock-engine";
import { byTopComponent, dependencyDepth, orderOnlyEdges } from "./graph";
import type { Measurement } from "./measure";

const sizes = [1, 10, 50];
const runs = Number(process.env.BENCH_RUNS ?? 9);
const outDir = "bench-out";

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function measure(args: string[]): Measurement {
  const output = execFileSync(process.execPath, ["--import", "tsx", join(__dirname, "measure.ts"), ...args], {
    encoding: "utf8",
  });
  return JSON.parse(output.trim().split("\n").pop()!) as Measurement;
}

interface Row {
  services: number;
  customResources: number;
  registrations: number;
  render: { ms: number; programMs: number; peakMiB: number; growthMiB: number };
  replay: { ms: number; programMs: number; peakMiB: number; growthMiB: number };
  /** Each run's render, and its program alone, over the replay run beside it. */
  ratios: number[];
  programRatios: number[];
  depth: number;
  dataDepth: number;
  serviceDepths: number[];
}

const summarise = (ms: Measurement[]) => ({
  ms: median(ms.map((m) => m.ms)),
  programMs: median(ms.map((m) => m.programMs)),
  peakMiB: median(ms.map((m) => m.peakRssMiB)),
  growthMiB: median(ms.map((m) => m.peakRssMiB - m.startRssMiB)),
});

function main(): number {
  mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  const rows: Row[] = [];
  let orderOnly = new Map<string, number>();
  for (const services of sizes) {
    const saved = join(outDir, `registrations-${services}.json`);
    const renders: Measurement[] = [];
    const replays: Measurement[] = [];
    // In pairs, so that a slow spell of the machine hits both alike, and alternating which of the
    // two runs first. The first render saves the registrations the replays replay.
    for (let i = 0; i < runs; i++) {
      const render = () => renders.push(measure(["render", String(services), ...(i === 0 ? [saved] : [])]));
      const replay = () => replays.push(measure(["replay", String(services), saved]));
      if (i % 2 === 0) {
        render();
        replay();
      } else {
        replay();
        render();
      }
      process.stderr.write(".");
    }
    const resources = JSON.parse(readFileSync(saved, "utf8")) as RegisteredResource[];
    const total = dependencyDepth(resources);
    const perService = [...byTopComponent(resources)]
      .filter(([name]) => name.startsWith("svc-"))
      .map(([, group]) => dependencyDepth(group).depth);
    orderOnly = orderOnlyEdges(resources);
    rows.push({
      services,
      customResources: renders[0].customResources,
      registrations: renders[0].registrations,
      render: summarise(renders),
      replay: summarise(replays),
      ratios: renders.map((m, i) => m.ms / replays[i].ms),
      programRatios: renders.map((m, i) => m.programMs / replays[i].ms),
      depth: total.depth,
      dataDepth: total.dataDepth,
      serviceDepths: perService,
    });
    process.stderr.write(` ${services} services\n`);
  }
  const seconds = (Date.now() - started) / 1000;

  const perResource = (r: Row) => r.render.ms / r.customResources;
  const memoryPerResource = (r: Row) => (r.render.growthMiB * 1024) / r.customResources;
  const [small, middle, large] = rows;
  // The ratio within each pair of runs, then their median: a slow spell of the machine slows both
  // runs of a pair alike, so the pairs vary less than either figure alone.
  const ratio = median(large.ratios);
  const programRatio = median(large.programRatios);
  const spread = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
  const targets = [
    {
      what: `at ${large.services} services the program takes at most 1.3× the replay baseline`,
      value: `${programRatio.toFixed(2)}× (runs ${spread(large.programRatios)})`,
      holds: programRatio <= 1.3,
    },
    // From 10 to 50 services: at 1 the fixed cost of a run dominates. 25% allows for noise.
    {
      what: `time per resource does not grow from ${middle.services} to ${large.services} services`,
      value: `${perResource(middle).toFixed(2)} → ${perResource(large).toFixed(2)} ms`,
      holds: perResource(large) <= perResource(middle) * 1.25,
    },
    {
      what: `memory per resource does not grow from ${middle.services} to ${large.services} services`,
      value: `${memoryPerResource(middle).toFixed(0)} → ${memoryPerResource(large).toFixed(0)} KiB`,
      holds: memoryPerResource(large) <= memoryPerResource(middle) * 1.25,
    },
    {
      what: "the dependency depth does not grow with the number of services",
      value: rows.map((r) => r.depth).join(", "),
      holds: rows.every((r) => r.depth === small.depth),
    },
    {
      what: "the dependency depth is the minimum the data requires",
      value: rows.map((r) => `${r.depth} = ${r.dataDepth}`).join(", "),
      holds: rows.every((r) => r.depth === r.dataDepth),
    },
  ];

  const cpu = cpus();
  const lines = [
    "# Benchmarks",
    "",
    "Generated by `npm run bench` (bench/run.ts) and, for the real engine, `npm run bench:real`",
    "(bench/real-engine.ts); do not edit by hand.",
    "",
    `Machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown"}), Node.js ${process.version}. ${runs} runs per figure, medians; ${seconds.toFixed(0)} s in all.`,
    "",
    "## What is measured",
    "",
    "A generated program declares N services (`bench/program.ts`: one CanaryPipeline each, distinct",
    "appName, namespace and repository, cycling through eks signed, token, and eks unsigned) sharing",
    "one GithubOidcProvider, and is rendered offline exactly as `npm run synth` renders a stack: the",
    "real Pulumi SDKs under the mock engine, then every file of the render. Each measurement runs in",
    "a fresh process, so its peak memory (RSS) is its own; time is the run alone, not Node's start.",
    "",
    "The baseline replays the same custom resources with the same inputs (from the render's",
    "registrations, secrets kept secret), registered flat by each provider SDK's own class with the",
    "same dependencies and through the same providers, with no component, no invoke and no file",
    "written (`bench/replay.ts`): the cost of the Pulumi SDK itself. Source maps are off in both (a",
    "consumer runs the compiled `dist/`); with them on, each stack trace the SDK captures (one per",
    "promise) is mapped frame by frame, which charges deep component stacks more.",
    "",
    "| services | custom resources | all registrations | program (render with its files) | replay | program ÷ replay (render ÷ replay) | per resource | peak RSS render / replay | memory growth per resource |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.services} | ${r.customResources} | ${r.registrations} | ${r.render.programMs.toFixed(0)} ms (${r.render.ms.toFixed(0)} ms) | ${r.replay.ms.toFixed(0)} ms | ${median(r.programRatios).toFixed(2)} (${median(r.ratios).toFixed(2)}) | ${perResource(r).toFixed(2)} ms | ${r.render.peakMiB.toFixed(0)} / ${r.replay.peakMiB.toFixed(0)} MiB | ${memoryPerResource(r).toFixed(0)} KiB |`,
    ),
    "",
    "The program is the render's run under the mock engine, to its end: what `pulumi preview` and",
    "`pulumi up` run, and what the replay replaces. The render then builds its files from the",
    "registrations (YAML of each Kubernetes object, resources.json, the summary, which reads each",
    "workflow for its job graph), which only `npm run synth` does. Each ratio is the median of the",
    "runs' own: the runs come in pairs, a render and a replay one after the other (which first",
    "alternates), and a slow spell of the shared machine slows both runs of a pair alike. Per",
    "resource is the render's time (with its files) per custom resource. Memory growth is the peak",
    "RSS less the RSS before the run.",
    "",
    "## Targets",
    "",
    "| target | measured | holds |",
    "|---|---|---|",
    ...targets.map((t) => `| ${t.what} | ${t.value} | ${t.holds ? "yes" : "**no**"} |`),
    "",
    `The 1.3× target sets our program against the flat replay of what it registers, both run to their`,
    `end under the same engine. With the files built as well, the render takes ${ratio.toFixed(2)}× the replay`,
    `(runs ${spread(large.ratios)}).`,
    "",
    "Where the ratio goes, at 50 services (profiled; each figure is a share of the replay's time):",
    "",
    "- the components: some 400 registrations the replay does not make, each with its outputs",
    "  (about 0.3 ms apiece under the mock engine): about 0.08×, of which the outputs 0.035×;",
    "- the rest of the program: settings validated per service, specs, policies and scripts built,",
    "  each service's deploy workflow written as YAML (yaml's Document, for the pinned actions'",
    "  comments: about 0.05×), and Outputs passed between resources, which the SDK awaits where the",
    "  replay passes plain values: together about 0.2×;",
    "- building the files, for the render: about 0.07×.",
    "",
    "The services share their providers (one per cluster, one for the GitHub owner), as",
    "`examples/platform` does; with a provider pair per service, the replay, which has them too, took",
    "some 400 ms more at 50 services and the ratio read 1.22×.",
    "",
    "Runs on this shared 2-core machine vary by some 20% from one to the next (a pair's ratio by",
    "more than 0.2), which is why the target is judged on the median of paired runs, with their",
    "spread beside it. Time and memory per resource fall or stay flat as services are added, so",
    "nothing grows faster than the resource count.",
    "",
    "## Dependency depth",
    "",
    "The longest chain of resources the engine must create one after another, from each resource's",
    "`dependencies` (`bench/graph.ts`). The data depth counts only the dependencies an input",
    "carries; the rest come from `dependsOn` alone.",
    "",
    "| services | depth | data depth | per service (min–max) |",
    "|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.services} | ${r.depth} | ${r.dataDepth} | ${Math.min(...r.serviceDepths)}–${Math.max(...r.serviceDepths)} |`,
    ),
    "",
    "Services share nothing but the OIDC provider, so the depth of the whole does not grow with",
    "their number. The order-only dependencies (`dependsOn` no input carries), each for a reason:",
    "",
    "| waiter ← waited for | count at the largest size | why |",
    "|---|---|---|",
    ...[...orderOnly]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([edge, count]) => `| ${edge} | ${count} | ${orderOnlyReasons[edge] ?? "**unexplained**"} |`),
    "",
    "The workflow commits are a chain: each RepositoryFile is a commit on the deploy branch through",
    "the Contents API, and parallel commits to one branch fail with 409 (terraform-provider-github",
    "#2909). That chain (2 commits with manageRepoWorkflows, 1 without) runs beside the AWS chain",
    "(provider, role, access entry, preview policy), so it does not set the depth. The first commit",
    "used to wait for every variable and secret too, which put the AWS and cluster chains before",
    "the commits; it now waits for the environment and its branch policy only.",
    "",
  ];
  // The real engine's section is npm run bench:real's (bench/real-engine.ts): kept as it is.
  const previous = readFileSync("docs/benchmarks.md", "utf8");
  const realEngine = /<!-- real-engine:start[\s\S]*<!-- real-engine:end -->\n?/.exec(previous)?.[0];
  writeFileSync("docs/benchmarks.md", `${lines.join("\n")}${realEngine ? `\n${realEngine}` : ""}`);
  for (const t of targets) console.log(`${t.holds ? "ok  " : "FAIL"} ${t.what}: ${t.value}`);
  console.log(`wrote docs/benchmarks.md (${seconds.toFixed(0)} s)`);
  return targets.every((t) => t.holds) ? 0 : 1;
}

/** Why each order-only dependency exists; one not listed here is reported as unexplained. */
export const orderOnlyReasons: Record<string, string> = {
  "RepositoryFile ← RepositoryFile": "one commit at a time on a branch: parallel commits fail with 409",
  "RepositoryFile ← RepositoryEnvironment": "a run naming an environment GitHub does not know creates it, unprotected",
  "RepositoryFile ← RepositoryEnvironmentDeploymentPolicy":
    "the environment's branch policy must hold before a workflow can name it",
  "Deployment ← ServiceAccount": "pods naming a missing ServiceAccount are refused until it exists",
  "RoleBinding ← Role": "the RBAC escalation check reads the Role: binding it first is refused without `bind`",
  "Secret ← ServiceAccount":
    "the token controller fills a token Secret only for an existing ServiceAccount (pulumi-kubernetes#4396)",
  "Command ← Deployment": "the smoke test needs the workloads",
  "Command ← Service": "the smoke test requests the Services",
};

if (require.main === module) process.exit(main());
