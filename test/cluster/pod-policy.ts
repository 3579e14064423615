// The deployer's admission policy against the real API server: the pods the pipeline renders, and
// one change each that the policy must refuse for the deployer (and the admin may still make).
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { restingSmokeTestSpec } from "../../components/cluster/canary-cluster";
import { smokeTestPod } from "../../components/shared/smoke-test";
import { smokeTestSpec } from "../../components/repository/workflows/deploy";
import type { StackConfig } from "../../config/schema";
import { toolsBin } from "./tier";

type Pod = {
  metadata: { name: string };
  spec: {
    automountServiceAccountToken?: boolean;
    volumes?: unknown[];
    containers: { image: string; volumeMounts?: unknown[] }[];
  };
};

/** The pod the release creates, exactly as the pipeline renders it (the smoke test). */
export const releasePod = (config: StackConfig) => smokeTestPod(smokeTestSpec(config));

/**
 * `pulumi up`'s smoke-test pod: among the deployer's pods only with smokeTestOnUp in token mode
 * (it runs as the deployer there), so the tier's stacks (smokeTestOnUp false) must refuse it.
 */
export const upPod = (config: StackConfig) => smokeTestPod(restingSmokeTestSpec(config));

/** One pod the policy refuses for the deployer per change, with the policy's message for it. */
export function refusedPods(config: StackConfig): { what: string; pod: Record<string, unknown>; message: RegExp }[] {
  const change = (edit: (pod: Pod) => void) => {
    const pod = structuredClone(smokeTestPod(smokeTestSpec(config))) as unknown as Pod;
    edit(pod);
    return pod as unknown as Record<string, unknown>;
  };
  return [
    {
      what: "a Secret mounted",
      message: /a pipeline pod mounts no volume/,
      pod: change((p) => {
        p.spec.volumes = [{ name: "loot", secret: { secretName: `${config.appName}-ghcr-pull` } }];
        p.spec.containers[0].volumeMounts = [{ name: "loot", mountPath: "/loot", readOnly: true }];
      }),
    },
    {
      what: "another image",
      message: /a pipeline pod runs its pinned image only/,
      pod: change((p) => {
        p.spec.containers[0].image = "curlimages/curl:8.10.1";
      }),
    },
    {
      what: "the token automounted",
      message: /automountServiceAccountToken: false/,
      pod: change((p) => {
        p.spec.automountServiceAccountToken = true;
      }),
    },
    {
      what: "another name",
      message: /the deployer may create only the pipeline's own pods/,
      pod: change((p) => {
        p.metadata.name = `${config.appName}-intruder`;
      }),
    },
  ];
}

/** `kubectl create --dry-run=server` of a pod as the kubeconfig's identity: admission runs, nothing is stored. */
export function createPod(
  kubeconfig: string,
  namespace: string,
  pod: Record<string, unknown>,
): { ok: boolean; output: string } {
  const run = spawnSync(
    path.join(toolsBin, "kubectl"),
    ["--kubeconfig", kubeconfig, "create", "--dry-run=server", "--filename", "-", "--namespace", namespace],
    { input: JSON.stringify(pod), encoding: "utf8", timeout: 20_000 },
  );
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

/** `kubectl <args> --dry-run=server` on a Deployment as the kubeconfig's identity: admission runs, nothing changes. */
export function changeDeployment(
  kubeconfig: string,
  namespace: string,
  args: string[],
): { ok: boolean; output: string } {
  const run = spawnSync(
    path.join(toolsBin, "kubectl"),
    ["--kubeconfig", kubeconfig, ...args, "--dry-run=server", "--namespace", namespace],
    { encoding: "utf8", timeout: 20_000 },
  );
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

/** Changes to a Deployment's pod template the release policy refuses for the deployer, with its message. */
export function refusedDeploymentChanges(
  config: StackConfig,
  deployment: string,
): { what: string; args: string[]; message: RegExp }[] {
  const patch = (ops: unknown[]) => [
    "patch",
    `deployment/${deployment}`,
    "--type=json",
    "--patch",
    JSON.stringify(ops),
  ];
  return [
    {
      what: "a Secret volume added",
      message: /the pods' volumes, init containers, service account and security context stay/,
      args: patch([
        {
          op: "add",
          path: "/spec/template/spec/volumes/-",
          value: { name: "loot", secret: { secretName: `${config.appName}-ghcr-pull` } },
        },
      ]),
    },
    {
      what: "an env value from a Secret",
      message: /the containers, env, mounts, commands and security context stay/,
      args: patch([
        {
          op: "add",
          path: "/spec/template/spec/containers/0/env",
          value: [
            {
              name: "LOOT",
              valueFrom: { secretKeyRef: { name: `${config.appName}-ghcr-pull`, key: ".dockerconfigjson" } },
            },
          ],
        },
      ]),
    },
    {
      what: "another image",
      message: /deploys the service's own image by digest/,
      args: ["set", "image", `deployment/${deployment}`, `${config.appName}=ghcr.io/mallory/loot:1`],
    },
  ];
}
