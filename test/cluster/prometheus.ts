// A real Prometheus server (Debian's prometheus package) on loopback, scraping every second an
// exporter of this process whose exposition a test gives: the pipeline's bake pod and Argo
// Rollouts' controller query it as they would a cluster's Prometheus.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";

const prometheusBinary = "/usr/bin/prometheus";

export interface PrometheusServer {
  /** Prometheus' URL (http://127.0.0.1:PORT). */
  readonly url: string;
  /** The exporter's URL: /metrics is the exposition, any other path answers 200 `ok` (a canary that answers). */
  readonly exporterUrl: string;
  close(): Promise<void>;
}

export interface PrometheusOptions {
  /** The exposition text the exporter serves at each scrape. */
  readonly exposition: () => string;
  /** A query and its value once the data a test needs is there (rate() over its window, say). */
  readonly ready: { readonly query: string; readonly value: string };
}

/** A free loopback port (nothing listens on it once this resolves). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts the exporter and Prometheus; resolves once the ready query answers its value (within 60 s). */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  assert.ok(
    fs.existsSync(prometheusBinary),
    `${prometheusBinary} is missing: install Debian's prometheus package (.ci/run does)`,
  );
  const exporter = createServer((req, res) => {
    if (req.url === "/metrics")
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(options.exposition());
    else res.writeHead(200).end("ok");
  });
  await new Promise<void>((resolve) => exporter.listen(0, "127.0.0.1", resolve));
  const exporterAddress = `127.0.0.1:${(exporter.address() as AddressInfo).port}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tier-prometheus-"));
  fs.writeFileSync(
    path.join(dir, "prometheus.yml"),
    [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      "scrape_configs:",
      "  - job_name: exporter",
      `    static_configs: [{ targets: ["${exporterAddress}"] }]`,
    ].join("\n"),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = "";
  const prometheus: ChildProcess = spawn(
    prometheusBinary,
    [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  prometheus.stderr!.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const close = async () => {
    if (prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus.once("exit", resolve));
      prometheus.kill("SIGTERM");
      await exited;
    }
    await new Promise((resolve) => exporter.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const answer = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(options.ready.query)}`)
      .then((r) => r.json() as Promise<{ data?: { result: { value: [number, string] }[] } }>)
      .catch(() => undefined);
    if (answer?.data?.result[0]?.value[1] === options.ready.value) break;
    if (Date.now() > deadline) {
      await close();
      assert.fail(`Prometheus has no data for ${options.ready.query} after 60 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { url, exporterUrl: `http://${exporterAddress}`, close };
}

/**
 * The request counters of one service's canary and stable tracks, 100 requests a second each,
 * whose canary error ratio a test sets (stable's stays at 1 %): a new ratio shows in rate() within
 * its window.
 */
export function requestCounters(service: string): {
  readonly exposition: () => string;
  setCanaryErrorRatio(ratio: number): void;
} {
  const perSecond = 100;
  const totals = { canary: { ok: 0, failed: 0 }, stable: { ok: 0, failed: 0 } };
  const ratios = { canary: 0.01, stable: 0.01 };
  let last = Date.now();
  const advance = () => {
    const seconds = (Date.now() - last) / 1000;
    last = Date.now();
    for (const track of ["canary", "stable"] as const) {
      totals[track].failed += perSecond * seconds * ratios[track];
      totals[track].ok += perSecond * seconds * (1 - ratios[track]);
    }
  };
  return {
    exposition: () => {
      advance();
      const lines = ["# TYPE http_requests_total counter"];
      for (const track of ["canary", "stable"] as const) {
        const labels = `service="${service}",track="${track}"`;
        lines.push(
          `http_requests_total{${labels},code="200"} ${Math.floor(totals[track].ok)}`,
          `http_requests_total{${labels},code="500"} ${Math.floor(totals[track].failed)}`,
        );
      }
      return `${lines.join("\n")}\n`;
    },
    setCanaryErrorRatio: (ratio) => {
      advance();
      ratios.canary = ratio;
    },
  };
}
