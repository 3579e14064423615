// The generated pipeline's canary and promote jobs, run as the deployer against the tier's cluster.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import type { StackConfig } from "../../config/schema";
import { deployWorkflow } from "../../components/repository/workflows/deploy";
import { renderWorkflow } from "../../components/repository/workflows/writer";
import { awsRegionVariable, deployRoleVariable, eksClusterVariable, imageName, kubeconfigSecret } from "../../components/repository/workflows/names";
import { runJob, type ExpressionContext, type JobResult } from "./workflow-runner";
import { adminKubectl, smokeTestLogFile, toolsBin } from "./tier";

/** A digest as the build job outputs it. */
export const newDigest = () => `sha256:${randomBytes(32).toString("hex")}`;

/**
 * What the smoke-test pod prints. kwok runs no container, so the report is the file kwok serves as
 * the pod's log (cluster/stages.yaml): a passing one stands for every request answered 200 in time,
 * a failing one for a canary that answered 500.
 */
export function writeSmokeReport(config: StackConfig, verdict: "pass" | "fail"): void {
  const url = `http://${config.appName}-canary.${config.namespace}.svc.cluster.local:80${config.healthPath}`;
  const line = verdict === "pass" ? `PASS canary 200 0.012s ${url}` : `FAIL canary 500 0.012s ${url}`;
  // In the CRI log format a kubelet reads container logs in: time, stream, tag, line.
  const stamp = new Date().toISOString();
  fs.writeFileSync(smokeTestLogFile, [line, `RESULT ${verdict}`].map((l) => `${stamp} stdout F ${l}\n`).join(""));
}

/**
 * Stand-ins for what the jobs' `uses:` steps and AWS provide, first on PATH: `cosign` accepts
 * every signature (signing is not what this tier proves), and in eks mode `aws eks
 * update-kubeconfig` writes the kubeconfig of a member of the deployer group (the access entry's
 * mapping). kubectl is the tier's own build.
 */
function standIns(eksKubeconfig: string | undefined): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stand-ins-"));
  fs.writeFileSync(path.join(dir, "cosign"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  if (eksKubeconfig !== undefined) {
    const source = path.join(dir, "eks-kubeconfig");
    fs.writeFileSync(source, eksKubeconfig, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, "aws"), [
      "#!/bin/bash",
      "# aws eks update-kubeconfig --name N --region R --kubeconfig FILE",
      "[ \"$1 $2\" = \"eks update-kubeconfig\" ] || { echo \"aws stand-in: unexpected $*\" >&2; exit 2; }",
      "while [ $# -gt 0 ]; do [ \"$1\" = --kubeconfig ] && cp " + JSON.stringify(source) + " \"$2\"; shift; done",
    ].join("\n") + "\n", { mode: 0o755 });
  }
  return dir;
}

export interface Deployer {
  /** token mode: the stack's kubeconfig output; eks mode: a kubeconfig of a deployer-group member. */
  readonly kubeconfig: string;
  readonly mode: "token" | "eks";
}

export interface Release {
  readonly canary: JobResult;
  readonly promote?: JobResult;
}

function context(config: StackConfig, deployer: Deployer, needs: Record<string, { outputs: Record<string, string> }>): ExpressionContext {
  const secrets: Record<string, string> = deployer.mode === "token" ? { [kubeconfigSecret]: deployer.kubeconfig } : {};
  return {
    vars: { [deployRoleVariable]: "arn:aws:iam::123456789012:role/tier-deploy", [awsRegionVariable]: config.awsRegion ?? "", [eksClusterVariable]: config.eksClusterName ?? "" },
    secrets,
    needs,
  };
}

export interface ReleaseOptions {
  /** Run the promote job after a passing canary job. Default: true. */
  readonly promote?: boolean;
  /** End a step as failed once its output matches (RunOptions.failOn). Default: none. */
  readonly failOn?: RegExp;
}

/** Runs the canary job and, when it passes and `promote` is set, the promote job. */
export async function release(config: StackConfig, deployer: Deployer, digest: string, options: ReleaseOptions = {}): Promise<Release> {
  const workflow = renderWorkflow(deployWorkflow(config), config.stack);
  const stand = standIns(deployer.mode === "eks" ? deployer.kubeconfig : undefined);
  try {
    const run = { pathPrefix: [stand, toolsBin], ...(options.failOn ? { failOn: options.failOn } : {}) };
    const canary = await runJob(workflow, "canary", context(config, deployer, { build: { outputs: { digest } } }), run);
    if (!canary.success || options.promote === false) return { canary };
    const promote = await runJob(workflow, "promote", context(config, deployer, { canary: { outputs: { digest } } }), run);
    return { canary, promote };
  } finally {
    fs.rmSync(stand, { recursive: true, force: true });
  }
}

/** The image of a Deployment's first container, and its replica count, read as the admin. */
export function deploymentState(namespace: string, name: string): { image: string; replicas: number; ready: number } {
  const d = JSON.parse(adminKubectl(["get", "deployment", name, "--namespace", namespace, "--output", "json"])) as {
    spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
    status: { readyReplicas?: number };
  };
  return { image: d.spec.template.spec.containers[0].image, replicas: d.spec.replicas, ready: d.status.readyReplicas ?? 0 };
}

export const imageOf = (config: StackConfig, digest: string) => `${imageName(config)}@${digest}`;
