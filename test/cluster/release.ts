// The generated pipeline's canary and promote jobs, run as the deployer against the tier's cluster.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import type { StackConfig } from "../../config/schema";
import { deployWorkflow } from "../../components/repository/workflows/deploy";
import { renderWorkflow } from "../../components/repository/workflows/writer";
import {
  awsRegionVariable,
  deployRoleVariable,
  deployWorkflowPath,
  eksClusterVariable,
  imageName,
  kubeconfigSecret,
  rollbackKubeconfigSecret,
  rollbackRoleVariable,
} from "../../components/repository/workflows/names";
import { runJob, type ExpressionContext, type JobOutcome, type JobResult, type RunOptions } from "./workflow-runner";
import { adminKubectl, bakeLogFile, smokeTestLogFile, toolsBin } from "./tier";

/** A digest as the build job outputs it. */
export const newDigest = () => `sha256:${randomBytes(32).toString("hex")}`;

/**
 * A digest whose pods never become ready on the tier's fake node (test-control-plane/stages.yaml): a
 * crash-looping container, or an image that cannot be pulled.
 */
export const failingDigest = (how: "crash-loop" | "image-pull") =>
  `sha256:${randomBytes(28).toString("hex")}${how === "crash-loop" ? "badc0de1" : "badc0de2"}`;

/**
 * What the smoke-test pod prints. kwok runs no container, so the report is the file kwok serves as
 * the pod's log (test-control-plane/stages.yaml): a passing one stands for every request answered 200 in time,
 * a failing one for a canary that answered 500.
 */
export function writeSmokeReport(config: StackConfig, verdict: "pass" | "fail"): void {
  const url = `http://${config.appName}-canary.${config.namespace}.svc.cluster.local:80${config.healthPath}`;
  const line = verdict === "pass" ? `PASS canary 200 0.012s ${url}` : `FAIL canary 500 0.012s ${url}`;
  // In the CRI log format a kubelet reads container logs in: time, stream, tag, line.
  const stamp = new Date().toISOString();
  fs.writeFileSync(smokeTestLogFile, [line, `RESULT ${verdict}`].map((l) => `${stamp} stdout F ${l}\n`).join(""));
}

/** Where the cosign stand-in keeps the attestations "pushed" beside each digest (one registry per test process). */
const registry = fs.mkdtempSync(path.join(os.tmpdir(), "attestations-"));

/**
 * cosign, as the jobs call it. `verify` accepts every signature: keyless signing needs Fulcio and
 * Rekor, which this tier cannot reach. `attest` stores the in-toto statement under the digest with
 * the signer's keyless identity (https://github.com/ + GITHUB_WORKFLOW_REF, as Fulcio writes a
 * workflow's certificate); `verify-attestation` prints, one DSSE envelope per line as cosign does,
 * the statements of that type whose signer is exactly --certificate-identity, and fails without one.
 */
const cosignStandIn = `#!${process.execPath}
const fs = require("node:fs"), path = require("node:path");
const [command, ...args] = process.argv.slice(2);
const flag = (name) => { const i = args.indexOf(name); return i < 0 ? undefined : args[i + 1]; };
const reference = args.find((a) => a.includes("@sha256:"));
const dir = path.join(${JSON.stringify(registry)}, reference ? reference.split("@")[1].replace(":", "-") : "none");
if (command === "verify") process.exit(0);
if (command === "attest") {
  const statement = { _type: "https://in-toto.io/Statement/v1", predicateType: flag("--type"),
    subject: [{ name: reference.split("@")[0], digest: { sha256: reference.split(":").pop() } }],
    predicate: JSON.parse(fs.readFileSync(flag("--predicate"), "utf8")) };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, Date.now() + "-" + process.pid + ".json"),
    JSON.stringify({ identity: "https://github.com/" + process.env.GITHUB_WORKFLOW_REF, statement }));
  process.exit(0);
}
if (command === "verify-attestation") {
  const found = (fs.existsSync(dir) ? fs.readdirSync(dir) : []).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")))
    .filter((a) => a.identity === flag("--certificate-identity") && a.statement.predicateType === flag("--type"));
  if (found.length === 0) { console.error("Error: no matching attestations"); process.exit(1); }
  for (const a of found) console.log(JSON.stringify({ payloadType: "application/vnd.in-toto+json", payload: Buffer.from(JSON.stringify(a.statement)).toString("base64"), signatures: [{ sig: "" }] }));
  process.exit(0);
}
console.error("cosign stand-in: unexpected " + command);
process.exit(2);
`;

/** Writes what the bake pod "prints" (kwok serves bakeLogFile as its log), in the container runtime's log format. */
export function writeBakeReport(lines: readonly string[]): void {
  const stamp = new Date().toISOString();
  fs.writeFileSync(bakeLogFile, lines.map((l) => `${stamp} stdout F ${l}\n`).join(""));
}

/** A bake that found nothing wrong. */
export const passingBake = ["PASS probe canary 200 0.010s /healthz", "RESULT pass"];

/**
 * Stand-ins for what the jobs' `uses:` steps and AWS provide, first on PATH: cosign (above) and,
 * in eks mode, `aws eks update-kubeconfig`, which writes the kubeconfig of a member of the group
 * the job's role is mapped to (the access entry's mapping). kubectl is the tier's own build.
 */
function standIns(eksKubeconfig: string | undefined): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stand-ins-"));
  fs.writeFileSync(path.join(dir, "cosign"), cosignStandIn, { mode: 0o755 });
  if (eksKubeconfig !== undefined) {
    const source = path.join(dir, "eks-kubeconfig");
    fs.writeFileSync(source, eksKubeconfig, { mode: 0o600 });
    fs.writeFileSync(
      path.join(dir, "aws"),
      [
        "#!/bin/bash",
        "# aws eks update-kubeconfig --name N --region R --kubeconfig FILE",
        '[ "$1 $2" = "eks update-kubeconfig" ] || { echo "aws stand-in: unexpected $*" >&2; exit 2; }',
        'while [ $# -gt 0 ]; do [ "$1" = --kubeconfig ] && cp ' + JSON.stringify(source) + ' "$2"; shift; done',
      ].join("\n") + "\n",
      { mode: 0o755 },
    );
  }
  return dir;
}

export interface Deployer {
  /** token mode: the stack's kubeconfig output; eks mode: a kubeconfig of a deployer-group member. */
  readonly kubeconfig: string;
  /** The same for the rollback identity (rollback group member in eks mode). */
  readonly rollbackKubeconfig: string;
  readonly mode: "token" | "eks";
}

export interface Release {
  /** The run: its number (its id follows from it) and its inputs, which a re-run keeps. */
  readonly run: { readonly number: number; readonly inputs: Record<string, string> };
  readonly canary: JobResult;
  readonly promote?: JobResult;
  readonly rollback?: JobResult;
}

/** The newest run number so far: each release() without one is a new run of the first environment's workflow. */
let runNumber = 100;

function context(
  config: StackConfig,
  deployer: Deployer,
  run: { number: number; inputs: Record<string, string> },
  needs: ExpressionContext["needs"],
): ExpressionContext {
  const secrets: Record<string, string> =
    deployer.mode === "token"
      ? { [kubeconfigSecret]: deployer.kubeconfig, [rollbackKubeconfigSecret]: deployer.rollbackKubeconfig }
      : {};
  const repository = `${config.githubOwner}/${config.githubRepository}`;
  return {
    vars: {
      [deployRoleVariable]: "arn:aws:iam::123456789012:role/tier-deploy",
      [rollbackRoleVariable]: "arn:aws:iam::123456789012:role/tier-rollback",
      [awsRegionVariable]: config.awsRegion ?? "",
      [eksClusterVariable]: config.eksClusterName ?? "",
    },
    secrets,
    inputs: run.inputs,
    github: {
      run_number: String(run.number),
      run_id: String(9_000_000 + run.number),
      server_url: "https://github.com",
      repository,
      workflow_ref: `${repository}/${deployWorkflowPath(config.environment)}@refs/heads/${config.deployBranch}`,
    },
    needs,
  };
}

export interface ReleaseOptions {
  /** Run the promote and rollback jobs after a passing canary job; false: a run still waiting for its approval. Default: true. */
  readonly promote?: boolean;
  /** End a step as failed once its output matches (RunOptions.failOn). Default: none. */
  readonly failOn?: RegExp;
  /** The scan job's result (the first environment's promote waits for it). Default: success. */
  readonly scan?: JobOutcome;
  /** The approval of the promote job was rejected: GitHub fails the job without running it. Default: false. */
  readonly rejectPromotion?: boolean;
  /** The run number (a re-run keeps its run's). Default: the next one. */
  readonly runNumber?: number;
  /** workflow_dispatch inputs (digest, rollback). Default: none (a push). */
  readonly inputs?: Record<string, string>;
  /** Cancel the run while a step of the canary or promote job runs. */
  readonly cancelDuring?: RunOptions["cancelDuring"] & { readonly job: "canary" | "promote" };
}

/**
 * Runs one run of the deploy workflow from the canary job on: the canary job, the promote job (as
 * its `if:` and needs decide) and the rollback job, each as the identity its steps name.
 */
export async function release(
  config: StackConfig,
  deployer: Deployer,
  digest: string,
  options: ReleaseOptions = {},
): Promise<Release> {
  const workflow = renderWorkflow(deployWorkflow(config), { project: "canary-pipeline", stack: config.stack });
  const first = config.promoteFrom === undefined;
  // A new run is newer than every run so far; a given number (a re-run) keeps its run's.
  runNumber = Math.max(runNumber, options.runNumber ?? 0);
  const run = {
    number: options.runNumber ?? ++runNumber,
    inputs: options.inputs ?? (first ? { digest: "" } : { digest, rollback: "false" }),
  };
  const asDeployer = standIns(deployer.mode === "eks" ? deployer.kubeconfig : undefined);
  const asRollback = standIns(deployer.mode === "eks" ? deployer.rollbackKubeconfig : undefined);
  const cancel = (job: string) => (options.cancelDuring?.job === job ? { cancelDuring: options.cancelDuring } : {});
  const runOptions = (dir: string, job: string): RunOptions => ({
    pathPrefix: [dir, toolsBin],
    ...(options.failOn ? { failOn: options.failOn } : {}),
    ...cancel(job),
  });
  try {
    type Needs = NonNullable<ExpressionContext["needs"]>;
    const upstream: Needs = first
      ? {
          build: { result: "success" as const, outputs: { digest } },
          scan: { result: options.scan ?? "success", outputs: {} },
        }
      : {};
    const canary = await runJob(
      workflow,
      "canary",
      context(config, deployer, run, upstream),
      runOptions(asDeployer, "canary"),
    );
    if (options.promote === false) return { run, canary };
    const afterCanary: Needs = { ...upstream, canary: { result: canary.result, outputs: canary.outputs } };
    const promote: JobResult = options.rejectPromotion
      ? { success: false, result: "failure", steps: [], outputs: {}, summary: "", log: "(approval rejected)" }
      : await runJob(
          workflow,
          "promote",
          context(config, deployer, run, afterCanary),
          runOptions(asDeployer, "promote"),
        );
    const rollback = await runJob(
      workflow,
      "rollback",
      context(config, deployer, run, { ...afterCanary, promote: { result: promote.result, outputs: promote.outputs } }),
      runOptions(asRollback, "rollback"),
    );
    return { run, canary, promote, rollback };
  } finally {
    for (const dir of [asDeployer, asRollback]) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The rest of an earlier run, later, as GitHub runs it: the promote job once its approval comes
 * (hours after the canary job), or "Re-run failed jobs", which runs a failed job and the jobs
 * that need it again with the outputs the run's successful jobs gave the first time (docs.github.com,
 * "Re-running workflows and jobs"). Same run number and id; the scan's result is the re-run's.
 */
export async function resumeRun(
  config: StackConfig,
  deployer: Deployer,
  earlier: Release,
  options: { readonly scan?: JobOutcome; readonly cancelDuring?: RunOptions["cancelDuring"] } = {},
): Promise<Release> {
  const workflow = renderWorkflow(deployWorkflow(config), { project: "canary-pipeline", stack: config.stack });
  const first = config.promoteFrom === undefined;
  const asDeployer = standIns(deployer.mode === "eks" ? deployer.kubeconfig : undefined);
  const asRollback = standIns(deployer.mode === "eks" ? deployer.rollbackKubeconfig : undefined);
  try {
    const canary = { result: earlier.canary.result, outputs: earlier.canary.outputs };
    const needs = {
      ...(first
        ? {
            build: { result: "success" as const, outputs: { digest: earlier.canary.outputs.digest ?? "" } },
            scan: { result: options.scan ?? "success", outputs: {} },
          }
        : {}),
      canary,
    };
    const promote = await runJob(workflow, "promote", context(config, deployer, earlier.run, needs), {
      pathPrefix: [asDeployer, toolsBin],
      ...(options.cancelDuring ? { cancelDuring: options.cancelDuring } : {}),
    });
    const rollback = await runJob(
      workflow,
      "rollback",
      context(config, deployer, earlier.run, {
        ...needs,
        promote: { result: promote.result, outputs: promote.outputs },
      }),
      { pathPrefix: [asRollback, toolsBin] },
    );
    return { run: earlier.run, canary: earlier.canary, promote, rollback };
  } finally {
    for (const dir of [asDeployer, asRollback]) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The image of a Deployment's first container, and its replica count, read as the admin. */
export function deploymentState(namespace: string, name: string): { image: string; replicas: number; ready: number } {
  const d = JSON.parse(adminKubectl(["get", "deployment", name, "--namespace", namespace, "--output", "json"])) as {
    spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
    status: { readyReplicas?: number };
  };
  return {
    image: d.spec.template.spec.containers[0].image,
    replicas: d.spec.replicas,
    ready: d.status.readyReplicas ?? 0,
  };
}

export const imageOf = (config: StackConfig, digest: string) => `${imageName(config)}@${digest}`;
