// Argo Rollouts on the local control plane: its CustomResourceDefinitions, its controller as a
// process on this host (the binaries tools/build.sh argo-rollouts built), and a stand-in for the
// Services its web metrics call. On this host the controller cannot resolve cluster DNS, and kwok's
// pods serve nothing, so its HTTP_PROXY points at the stand-in, which answers as kube-proxy and the
// picked pod's container would: from the Service's selector and the pods the API server reports.
import { spawn } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { Duplex } from "node:stream";
import { parse, parseAllDocuments } from "yaml";
import { adminKubeconfig, adminKubectl, clusterDir, repoRoot, toolsBin } from "./control-plane";

/**
 * A digest ending in this marks a release whose containers become ready but answer every request
 * with 500. test-control-plane/stages.yaml holds back only ...badc0de1 (crash loop) and ...badc0de2
 * (image pull), so kwok makes these pods ready as any other; only the stand-in tells them apart.
 */
export const servesErrorsMarker = "badc0de3";

/** Every CRD of the built Argo Rollouts version, `---`-separated (tools/build.sh). */
const crdsFile = path.join(toolsBin, "argo-rollouts-crds.yaml");
export const argoControllerLog = path.join(clusterDir, "argo-rollouts-controller.log");

function requireArgoTools(...names: string[]): void {
  const missing = names.filter((name) => !fs.existsSync(path.join(toolsBin, name)));
  if (missing.length > 0) {
    throw new Error(
      `missing ${missing.join(", ")} in ${path.relative(repoRoot, toolsBin) || toolsBin}: run tools/build.sh argo-rollouts`,
    );
  }
}

function crdNames(): string[] {
  requireArgoTools("argo-rollouts-crds.yaml");
  return parseAllDocuments(fs.readFileSync(crdsFile, "utf8"))
    .map((doc) => doc.toJS() as { kind?: string; metadata?: { name?: string } } | null)
    .filter((crd) => crd?.kind === "CustomResourceDefinition" && crd.metadata?.name)
    .map((crd) => crd!.metadata!.name!);
}

/** Installs (or updates) Argo Rollouts' CRDs and waits until the API server serves each. */
export function installArgoRolloutsCrds(): void {
  const names = crdNames();
  // Server-side: the Rollout CRD's schema is larger than the last-applied annotation allows.
  adminKubectl(["apply", "--server-side", "--force-conflicts", "--filename", crdsFile]);
  // One wait for all of them: each kubectl run costs half a second.
  adminKubectl(["wait", "--for=condition=Established", ...names.map((name) => `crd/${name}`), "--timeout=60s"]);
}

/** Removes Argo Rollouts' CRDs (and so every object of their kinds), for a cluster without them. */
export function removeArgoRolloutsCrds(): void {
  adminKubectl(["delete", "--ignore-not-found", "--wait", ...crdNames().map((name) => `crd/${name}`)]);
}

export interface ArgoRolloutsController {
  readonly pid: number;
  /** The controller's output. */
  readonly log: string;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

/** Free loopback ports, all held at once so that they differ, then released for the controller. */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => http.createServer());
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))));
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function logTail(file: string, lines = 30): string {
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "";
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ host: "127.0.0.1", port, path: "/healthz", timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(false));
  });
}

/**
 * Starts Argo Rollouts' controller against the control plane, as the admin, and waits until it
 * answers on healthz. Its web (and prometheus) metric clients use Go's proxy-from-environment
 * transport, so their plain-http requests go to `httpProxy`; the API server (https on 127.0.0.1)
 * is never proxied, as Go never proxies loopback.
 */
export async function startArgoRolloutsController(options: { httpProxy: string }): Promise<ArgoRolloutsController> {
  requireArgoTools("rollouts-controller");
  if (!fs.existsSync(adminKubeconfig)) throw new Error("no control plane: run `npm run control-plane -- up` first");
  const [healthzPort, metricsPort] = await freePorts(2);
  // The controller binds both ports on every interface (0.0.0.0, not configurable); it serves
  // only healthz and its Prometheus metrics there, nothing that changes the cluster.
  const args = [
    "--kubeconfig",
    adminKubeconfig,
    "--leader-elect=false",
    "--healthzPort",
    String(healthzPort),
    "--metricsPort",
    String(metricsPort),
    "--loglevel",
    "info",
  ];
  fs.mkdirSync(clusterDir, { recursive: true });
  const out = fs.openSync(argoControllerLog, "w");
  const child = spawn(path.join(toolsBin, "rollouts-controller"), args, {
    // Upper case wins over http_proxy/no_proxy in Go, whatever this environment holds.
    env: { ...process.env, HTTP_PROXY: options.httpProxy, NO_PROXY: "127.0.0.1,localhost" },
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error("rollouts-controller did not start");
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;

  // Never outlive this process: kill it on exit, and on a terminating signal (then re-raise it,
  // unless someone else handles it, so that the signal still ends this process).
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const kill = () => {
    if (running()) child.kill("SIGKILL");
  };
  const onSignal = (signal: NodeJS.Signals) => {
    kill();
    forget();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const forget = () => {
    process.off("exit", kill);
    for (const signal of signals) process.off(signal, onSignal);
  };
  process.on("exit", kill);
  for (const signal of signals) process.on(signal, onSignal);
  // Only stop() or this process's end stops it: it does not keep the event loop alive.
  child.unref();

  const stop = async () => {
    if (running()) {
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 10_000)));
      if (await Promise.race([exited.then(() => false), gaveUp])) {
        child.kill("SIGKILL");
        await exited;
      }
      clearTimeout(timer);
    }
    forget();
  };

  const deadline = Date.now() + 60_000;
  while (!(await healthy(healthzPort))) {
    if (!running() || Date.now() > deadline) {
      const why = running() ? "did not answer on healthz within 60 s" : "exited";
      await stop();
      throw new Error(
        `rollouts-controller ${why}; its log (${path.relative(repoRoot, argoControllerLog)}) ends:\n${logTail(argoControllerLog)}`,
      );
    }
    await sleep(250);
  }
  return { pid, log: argoControllerLog, stop };
}

/** One request the stand-in answered. For a host not of a Service's shape, `service` is the host as sent. */
export interface StandInRequest {
  service: string;
  namespace: string;
  path: string;
  status: number;
  /** The pod that "served" it. */
  pod?: string;
}

export interface ServiceStandIn {
  /** The proxy's URL, for HTTP_PROXY. */
  readonly url: string;
  readonly requests: StandInRequest[];
  close(): Promise<void>;
}

interface KubeconfigFile {
  clusters: { cluster: { server: string; "certificate-authority"?: string; "certificate-authority-data"?: string } }[];
  users: {
    user: {
      "client-certificate"?: string;
      "client-certificate-data"?: string;
      "client-key"?: string;
      "client-key-data"?: string;
    };
  }[];
}

/** The admin kubeconfig's server and credentials, whether it names files or holds base64 data. */
function adminAccess(): { server: URL; ca: Buffer; cert: Buffer; key: Buffer } {
  const kubeconfig = parse(fs.readFileSync(adminKubeconfig, "utf8")) as KubeconfigFile;
  const { cluster } = kubeconfig.clusters[0];
  const { user } = kubeconfig.users[0];
  const read = (file: string | undefined, data: string | undefined, what: string) => {
    if (data) return Buffer.from(data, "base64");
    if (file) return fs.readFileSync(file);
    throw new Error(`the admin kubeconfig has no ${what}`);
  };
  return {
    server: new URL(cluster.server),
    ca: read(cluster["certificate-authority"], cluster["certificate-authority-data"], "certificate authority"),
    cert: read(user["client-certificate"], user["client-certificate-data"], "client certificate"),
    key: read(user["client-key"], user["client-key-data"], "client key"),
  };
}

interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { containers: { image: string }[] };
  status?: { conditions?: { type: string; status: string }[] };
}
interface Service {
  spec: { selector?: Record<string, string>; ports?: { port: number }[] };
}

/** `<service>.<namespace>.svc` with or without `.cluster.local`, as cluster DNS resolves it. */
const serviceHost = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?$/;

/**
 * An HTTP proxy on loopback that plays kube-proxy and the Services' containers for the requests
 * the controller sends through HTTP_PROXY: `GET http://<svc>.<ns>.svc.cluster.local:<port><path>`
 * goes to a random ready, not terminating pod of the Service's selector (which the controller
 * rewrites to one ReplicaSet's pods), and the answer is that pod's: 500 "error" when its first
 * container's image ends in servesErrorsMarker, else 200 "ok" (not JSON: Argo's web provider then
 * counts a 2xx as success). No Service or no ready pod: 503 "no endpoints", as a refused
 * connection would be an error. A port the Service does not expose, or any other request: 502.
 */
export async function startServiceStandIn(): Promise<ServiceStandIn> {
  const access = adminAccess();
  // One kept-alive TLS connection to the API server keeps each answer well under a second.
  const agent = new https.Agent({ keepAlive: true, ca: access.ca, cert: access.cert, key: access.key });
  const get = <T>(apiPath: string) =>
    new Promise<T | undefined>((resolve, reject) => {
      const request = https.get(
        new URL(apiPath, access.server),
        { agent, timeout: 1000, headers: { accept: "application/json" } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            const body = Buffer.concat(chunks).toString("utf8");
            if (response.statusCode === 404) resolve(undefined);
            else if (response.statusCode === 200) resolve(JSON.parse(body) as T);
            else reject(new Error(`GET ${apiPath}: ${response.statusCode} ${body}`));
          });
        },
      );
      request.on("timeout", () => request.destroy(new Error(`GET ${apiPath}: no answer within 1 s`)));
      request.on("error", reject);
    });

  /** What the Service's endpoint answers: status, body, and the pod picked. */
  const answer = async (
    service: string,
    namespace: string,
    port: number,
  ): Promise<{ status: number; body: string; pod?: string }> => {
    const ns = encodeURIComponent(namespace);
    const svc = await get<Service>(`/api/v1/namespaces/${ns}/services/${encodeURIComponent(service)}`);
    // A Service without a selector has no endpoints kube-proxy would know of (none are made here).
    const selector = Object.entries(svc?.spec.selector ?? {});
    if (!svc || selector.length === 0) return { status: 503, body: "no endpoints" };
    if (!(svc.spec.ports ?? []).some((p) => p.port === port)) return { status: 502, body: "no such service port" };
    const labelSelector = encodeURIComponent(selector.map(([k, v]) => `${k}=${v}`).join(","));
    const pods = await get<{ items: Pod[] }>(`/api/v1/namespaces/${ns}/pods?labelSelector=${labelSelector}`);
    const ready = (pods?.items ?? []).filter(
      (pod) =>
        !pod.metadata.deletionTimestamp &&
        pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    );
    if (ready.length === 0) return { status: 503, body: "no endpoints" };
    const pod = ready[Math.floor(Math.random() * ready.length)];
    const failing = pod.spec.containers[0]?.image.endsWith(servesErrorsMarker);
    return { status: failing ? 500 : 200, body: failing ? "error" : "ok", pod: pod.metadata.name };
  };

  const requests: StandInRequest[] = [];
  const server = http.createServer((req, res) => {
    const reply = (record: StandInRequest, body: string) => {
      requests.push(record);
      res.writeHead(record.status, { "content-type": "text/plain" }).end(body);
    };
    // A proxied request carries the absolute URI (`GET http://host:port/path`).
    let target: URL | undefined;
    try {
      target = req.url?.startsWith("http://") ? new URL(req.url) : undefined;
    } catch {
      target = undefined;
    }
    const host = target ? serviceHost.exec(target.hostname) : null;
    if (!target || !host || req.method !== "GET") {
      reply(
        { service: target?.hostname ?? req.headers.host ?? "", namespace: "", path: req.url ?? "", status: 502 },
        "",
      );
      return;
    }
    const [service, namespace] = [host[1], host[3]];
    const requestPath = target.pathname + target.search;
    answer(service, namespace, Number(target.port || 80)).then(
      ({ status, body, pod }) =>
        reply({ service, namespace, path: requestPath, status, ...(pod ? { pod } : {}) }, body),
      (error: unknown) => reply({ service, namespace, path: requestPath, status: 502 }, `stand-in: ${String(error)}`),
    );
  });
  // HTTPS through the proxy (CONNECT) is nothing a Service of this tier answers.
  server.on("connect", (req: http.IncomingMessage, socket: Duplex) => {
    requests.push({ service: req.url ?? "", namespace: "", path: "", status: 502 });
    socket.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
