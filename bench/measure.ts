// One measurement, in its own process so that its peak memory is its own:
//   tsx bench/measure.ts render SERVICES [SAVE_FILE]   render SERVICES pipelines (and save the registrations)
//   tsx bench/measure.ts replay SERVICES FROM_FILE     replay the registrations saved by a render
// Prints one JSON line (a Measurement).
import { readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { runProgram, type RegisteredResource } from "../testing/mock-engine";
import { renderFiles } from "../synth/render";
import { projectName } from "../config/schema";
import { benchProgram } from "./program";
import { replayProgram } from "./replay";

export interface Measurement {
  readonly mode: "render" | "replay";
  readonly services: number;
  /** Wall time of the run itself (the program under the mock engine, and for a render its files). */
  readonly ms: number;
  /** Of which the program under the mock engine (a render's registrations alone, without its files). */
  readonly programMs: number;
  /** Resident memory before the run and the process's peak, in MiB. */
  readonly startRssMiB: number;
  readonly peakRssMiB: number;
  /** Custom resources registered (what the engine would create), and all registrations. */
  readonly customResources: number;
  readonly registrations: number;
}

// Source maps off (see docs/benchmarks.md): a consumer runs the compiled dist/ without them.
process.setSourceMapsEnabled(false);

const mib = (bytes: number) => bytes / 1024 / 1024;
const stack = "bench";

async function measure(mode: string, services: number, file: string | undefined): Promise<Measurement> {
  const replayed = mode === "replay" ? (JSON.parse(readFileSync(file!, "utf8")) as RegisteredResource[]) : undefined;
  const startRss = process.memoryUsage().rss;
  const start = performance.now();
  // renderStack's two steps, timed apart: the program's run, then the files.
  const { resources } = await runProgram({
    project: projectName,
    stack,
    config: {},
    secretKeys: [],
    program: replayed ? replayProgram(replayed) : benchProgram(services),
  });
  const programMs = performance.now() - start;
  if (!replayed) renderFiles(stack, resources);
  const ms = performance.now() - start;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  if (mode === "render" && file) writeFileSync(file, JSON.stringify(resources));
  return {
    mode: replayed ? "replay" : "render",
    services,
    ms,
    programMs,
    startRssMiB: mib(startRss),
    peakRssMiB: mib(peakRss),
    customResources: resources.filter((r) => r.custom).length,
    registrations: resources.length,
  };
}

if (require.main === module) {
  const [mode, services, file] = process.argv.slice(2);
  if ((mode !== "render" && mode !== "replay") || !/^\d+$/.test(services ?? "") || (mode === "replay" && !file)) {
    console.error("usage: tsx bench/measure.ts render SERVICES [SAVE_FILE] | replay SERVICES FROM_FILE");
    process.exit(2);
  }
  measure(mode, Number(services), file).then(
    (m) => console.log(JSON.stringify(m)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
