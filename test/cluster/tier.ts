// The real tier's harness: the real Pulumi CLI and kubernetes plugin (tools/build.sh) run inline
// programs through the Automation API (test-control-plane/stack.ts) against the control plane
// `npm run test:cluster` starts (test-control-plane/control-plane.ts).
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseStackConfig } from "../../config/load";
import type { StackConfig } from "../../config/schema";
import type { ServiceSettings } from "../../config/settings";
import { adminKubeconfig, clusterCa, clusterDir, toolsBin } from "../../test-control-plane/control-plane";
import { clusterAccess } from "../../test-control-plane/stack";

export {
  adminKubectl,
  adminKubeconfig,
  bakeLogFile,
  smokeTestLogFile,
  toolsBin,
} from "../../test-control-plane/control-plane";
export { changes, clusterAccess, tierStack, writeProject } from "../../test-control-plane/stack";

/** A service's validated settings, as a platform team's stack would pass them. */
export function serviceConfig(settings: ServiceSettings, stack = "tier"): StackConfig {
  return parseStackConfig(settings as unknown as Record<string, unknown>, stack, {
    ghcrPullToken: false,
    slackWebhook: false,
  });
}

/**
 * A kubeconfig for a user the cluster CA vouches for, in the given groups: in eks mode it stands
 * for the deploy role, which EKS maps to the deployer group through its access entry.
 */
export function certificateKubeconfig(user: string, groups: string[]): string {
  const dir = fs.mkdtempSync(path.join(clusterDir, "identity-"));
  const key = path.join(dir, "key.pem"),
    csr = path.join(dir, "csr.pem"),
    cert = path.join(dir, "cert.pem");
  const subject = `/CN=${user}${groups.map((g) => `/O=${g}`).join("")}`;
  execFileSync(
    "openssl",
    ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", subject],
    { stdio: "ignore" },
  );
  execFileSync(
    "openssl",
    [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      clusterCa.cert,
      "-CAkey",
      clusterCa.key,
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  const { server, caData } = clusterAccess();
  const b64 = (file: string) => fs.readFileSync(file).toString("base64");
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    "current-context": user,
    clusters: [{ name: "tier", cluster: { server, "certificate-authority-data": caData } }],
    users: [{ name: user, user: { "client-certificate-data": b64(cert), "client-key-data": b64(key) } }],
    contexts: [{ name: user, context: { cluster: "tier", user } }],
  };
  fs.rmSync(dir, { recursive: true, force: true });
  return JSON.stringify(kubeconfig);
}

/** Polls `check` every half second until it holds; fails after `seconds`. */
export function waitUntil(what: string, check: () => boolean, seconds = 60): void {
  const deadline = Date.now() + seconds * 1000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  }
}

/** True while the admin can read the namespace. */
export const namespaceExists = (namespace: string) =>
  spawnSync(path.join(toolsBin, "kubectl"), ["--kubeconfig", adminKubeconfig, "get", "namespace", namespace]).status ===
  0;

/** Writes a kubeconfig (mode 600) under out/cluster, which the tier's output holds, and returns its path. */
export function kubeconfigFile(contents: string): string {
  fs.mkdirSync(path.join(clusterDir, "identities"), { recursive: true });
  const file = path.join(fs.mkdtempSync(path.join(clusterDir, "identities", "kubeconfig-")), "kubeconfig");
  fs.writeFileSync(file, contents, { mode: 0o600 });
  return file;
}
