// A local Kubernetes control plane for the real tier: etcd, kube-apiserver (RBAC and Node
// authorisers; the default admission chain, PodSecurity and ValidatingAdmissionPolicy among it,
// with NodeRestriction added; ServiceAccount tokens signed), kube-controller-manager,
// kube-scheduler and kwok's controller faking one node, all on loopback. kwokctl
// (sigs.k8s.io/kwok) lays out the certificates, kubeconfigs and flags and runs each as a process;
// every binary is the one tools/build.sh built. Nothing here downloads anything.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const repoRoot = path.resolve(__dirname, "..");
/** Where tools/build.sh links the binaries, or CANARY_TOOLS_BIN: a folder of binaries of your own. */
export const toolsBin = process.env.CANARY_TOOLS_BIN
  ? path.resolve(process.env.CANARY_TOOLS_BIN)
  : path.join(repoRoot, "out", "tools", "bin");
/** Everything the cluster writes: kwokctl's work directory, the admin kubeconfig, the logs. */
export const clusterDir = path.join(repoRoot, "out", "cluster");
export const adminKubeconfig = path.join(clusterDir, "kubeconfig");
/** What the smoke-test pod "prints": kwok runs no container, so `kubectl logs` serves this file. */
export const smokeTestLogFile = path.join(clusterDir, "smoke-test.log");
/** What the bake pod "prints" (its container is canary-bake). */
export const bakeLogFile = path.join(clusterDir, "canary-bake.log");

const clusterName = "canary-pipeline";
const kwokWorkdir = path.join(clusterDir, "kwok");
/** kwokctl's own layout under its work directory (pkg/kwokctl/runtime/config.go). */
const clusterHome = path.join(kwokWorkdir, "clusters", clusterName);
const nodeName = "kwok-node-0";
/** The cluster's CA, which kwokctl generates: it signs client certificates for test identities. */
export const clusterCa = {
  cert: path.join(clusterHome, "pki", "ca.crt"),
  key: path.join(clusterHome, "pki", "ca.key"),
};

/** The control plane's components, with the binary each runs. */
const components = {
  etcd: "etcd",
  "kube-apiserver": "kube-apiserver",
  "kube-controller-manager": "kube-controller-manager",
  "kube-scheduler": "kube-scheduler",
  "kwok-controller": "kwok",
} as const;
type Component = keyof typeof components;

const binary = (name: string) => path.join(toolsBin, name);

function requireTools(): void {
  const missing = [...Object.values(components), "kwokctl", "kubectl"].filter((name) => !fs.existsSync(binary(name)));
  if (missing.length > 0) {
    throw new Error(
      `missing ${missing.join(", ")} in ${path.relative(repoRoot, toolsBin) || toolsBin}: run tools/build.sh first`,
    );
  }
}

/** The Kubernetes version the built kube-apiserver reports (`Kubernetes v1.36.3`). */
function kubeVersion(): string {
  return execFileSync(binary("kube-apiserver"), ["--version"], { encoding: "utf8" }).trim().split(" ").pop()!;
}

function kwokctlEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KWOK_WORKDIR: kwokWorkdir,
    KWOK_KUBE_VERSION: kubeVersion(),
    KWOK_RUNTIME: "binary",
    KWOK_ETCD_BINARY: binary("etcd"),
    KWOK_KUBE_APISERVER_BINARY: binary("kube-apiserver"),
    KWOK_KUBE_CONTROLLER_MANAGER_BINARY: binary("kube-controller-manager"),
    KWOK_KUBE_SCHEDULER_BINARY: binary("kube-scheduler"),
    KWOK_CONTROLLER_BINARY: binary("kwok"),
    KWOK_KUBECTL_BINARY: binary("kubectl"),
  };
}

function kwokctl(args: string[]) {
  return spawnSync(binary("kwokctl"), ["--name", clusterName, ...args], { env: kwokctlEnv(), encoding: "utf8" });
}

/** kubectl as the cluster's administrator. */
export function adminKubectl(args: string[], input?: string): string {
  return execFileSync(binary("kubectl"), ["--kubeconfig", adminKubeconfig, ...args], {
    encoding: "utf8",
    ...(input !== undefined ? { input } : {}),
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/**
 * The kwok configuration: every component listens on loopback only (kwokctl's default is
 * 0.0.0.0), the stages of test-control-plane/stages.yaml, and the smoke-test and bake pods' logs.
 */
function kwokConfig(): string {
  const kwokctl = [
    "apiVersion: config.kwok.x-k8s.io/v1alpha1",
    "kind: KwokctlConfiguration",
    "options:",
    "  bindAddress: 127.0.0.1",
  ].join("\n");
  const stages = fs.readFileSync(path.join(__dirname, "stages.yaml"), "utf8");
  const logs = [
    "apiVersion: kwok.x-k8s.io/v1alpha1",
    "kind: ClusterLogs",
    "metadata:",
    "  name: smoke-test",
    "spec:",
    "  logs:",
    "  - containers: [smoke-test]",
    `    logsFile: ${JSON.stringify(smokeTestLogFile)}`,
    "  - containers: [canary-bake]",
    `    logsFile: ${JSON.stringify(bakeLogFile)}`,
  ].join("\n");
  return `${kwokctl}\n---\n${stages}\n---\n${logs}\n`;
}

/** The fake node kwok manages (kwokctl's controller manages nodes with this annotation). */
const fakeNode = JSON.stringify({
  apiVersion: "v1",
  kind: "Node",
  metadata: {
    name: nodeName,
    annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
    labels: {
      "kubernetes.io/hostname": nodeName,
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
      "topology.kubernetes.io/zone": "local-a",
      type: "kwok",
    },
  },
});

/** Where a component's log is. */
export const componentLog = (component: Component) => path.join(clusterHome, "logs", `${component}.log`);

/** The process id of each component, from the pid files kwokctl writes. */
function componentPids(): Partial<Record<Component, number>> {
  return Object.fromEntries(
    (Object.keys(components) as Component[]).flatMap((component) => {
      const pidFile = path.join(clusterHome, "pids", `${component}.pid`);
      return fs.existsSync(pidFile) ? [[component, Number(fs.readFileSync(pidFile, "utf8").trim())]] : [];
    }),
  );
}

/** True while the process runs (a zombie has exited already). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** The components whose process is not running. */
function stoppedComponents(): Component[] {
  const pids = componentPids();
  return (Object.keys(components) as Component[]).filter(
    (component) => pids[component] === undefined || !alive(pids[component]),
  );
}

function startupError(step: string, detail: string): Error {
  const stopped = stoppedComponents();
  const blame =
    stopped.length > 0
      ? stopped.map((c) => `${c} is not running; its log: ${path.relative(repoRoot, componentLog(c))}`)
      : [`every component runs; logs under ${path.relative(repoRoot, path.join(clusterHome, "logs"))}/`];
  return new Error([`cluster up: ${step} failed`, ...blame, detail.trim()].filter(Boolean).join("\n"));
}

function waitFor(what: string, check: () => boolean, seconds: number): void {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      if (check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw startupError(what, `gave up after ${seconds} s`);
    execFileSync("sleep", ["0.5"]);
  }
}

/** True when a cluster from a previous `up` is still running. */
export function clusterRunning(): boolean {
  return fs.existsSync(adminKubeconfig) && fs.existsSync(clusterHome) && stoppedComponents().length === 0;
}

/** Starts the control plane and the fake node, and writes the admin kubeconfig. */
export function clusterUp(): void {
  requireTools();
  if (clusterRunning()) return;
  clusterDown();
  fs.mkdirSync(clusterDir, { recursive: true });
  fs.writeFileSync(smokeTestLogFile, "");
  fs.writeFileSync(bakeLogFile, "");
  const configFile = path.join(clusterDir, "kwok.yaml");
  fs.writeFileSync(configFile, kwokConfig());
  const created = kwokctl([
    "create",
    "cluster",
    "--config",
    configFile,
    "--kubeconfig",
    adminKubeconfig,
    "--kube-authorization",
    "--kube-admission",
    "--extra-args",
    "kube-apiserver=enable-admission-plugins=NodeRestriction,PodSecurity,ValidatingAdmissionPolicy",
    "--wait",
    "90s",
  ]);
  if (created.status !== 0) throw startupError("kwokctl create cluster", `${created.stdout}\n${created.stderr}`);
  adminKubectl(["apply", "--filename", "-"], fakeNode);
  waitFor(
    `node ${nodeName} Ready`,
    () =>
      adminKubectl([
        "get",
        "node",
        nodeName,
        "--output",
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]) === "True",
    60,
  );
  // The controller manager creates each namespace's `default` ServiceAccount; pods need it.
  waitFor(
    "the default ServiceAccount",
    () =>
      adminKubectl(["get", "serviceaccount", "default", "--namespace", "default", "--output", "name"]).trim() !== "",
    60,
  );
}

/** Stops every component and removes the cluster's state. Safe to call when nothing runs. */
export function clusterDown(): void {
  const pids = fs.existsSync(clusterHome) ? componentPids() : {};
  if (fs.existsSync(binary("kwokctl")) && fs.existsSync(clusterHome)) {
    const deleted = kwokctl(["delete", "cluster"]);
    if (deleted.status !== 0) throw new Error(`cluster down: kwokctl delete cluster failed\n${deleted.stderr}`);
  }
  const deadline = Date.now() + 30_000;
  let left = Object.entries(pids).filter(([, pid]) => alive(pid));
  while (left.length > 0 && Date.now() < deadline) {
    execFileSync("sleep", ["0.2"]);
    left = left.filter(([, pid]) => alive(pid));
  }
  if (left.length > 0)
    throw new Error(`cluster down: still running: ${left.map(([c, pid]) => `${c} (pid ${pid})`).join(", ")}`);
  fs.rmSync(kwokWorkdir, { recursive: true, force: true });
  fs.rmSync(adminKubeconfig, { force: true });
}
