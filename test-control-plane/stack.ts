// Stacks of inline programs on the real engine, for the real tier and its benchmark: the Pulumi CLI
// and the kubernetes plugin that tools/build.sh built (found on PATH, so no plugin is acquired), a
// file backend and a passphrase of the stack's own, against the local control plane.
import { LocalWorkspace, PulumiCommand, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { adminKubeconfig, clusterDir, repoRoot, toolsBin } from "./control-plane";

/** The admin kubeconfig's server and CA: what a token-mode stack is configured with. */
export function clusterAccess(): { server: string; caData: string } {
  const kubeconfig = parse(fs.readFileSync(adminKubeconfig, "utf8")) as {
    clusters: {
      cluster: { server: string; "certificate-authority-data"?: string; "certificate-authority"?: string };
    }[];
  };
  const cluster = kubeconfig.clusters[0].cluster;
  const caData =
    cluster["certificate-authority-data"] ?? fs.readFileSync(cluster["certificate-authority"]!).toString("base64");
  return { server: cluster.server, caData };
}

/** The project's own Pulumi.yaml `options` (refresh and friends): the tier runs under the same. */
function projectOptions(): Record<string, unknown> | undefined {
  const project = parse(fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8")) as {
    options?: Record<string, unknown>;
  };
  return project.options;
}

export interface TierStackOptions {
  /** Run without the project's `options` (to show what they change). Default: false. */
  readonly withoutProjectOptions?: boolean;
}

/** Writes the stack's Pulumi.yaml, with or without the project's own `options`. */
export function writeProject(workDir: string, name: string, options: TierStackOptions = {}): void {
  const project = { name, runtime: "nodejs", ...(options.withoutProjectOptions ? {} : { options: projectOptions() }) };
  fs.writeFileSync(path.join(workDir, "Pulumi.yaml"), JSON.stringify(project));
}

/** A fresh stack of an inline program, in a work directory and file backend of its own. */
export async function tierStack(name: string, program: PulumiFn, options: TierStackOptions = {}): Promise<Stack> {
  const workDir = path.join(clusterDir, "stacks", name);
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(workDir, "state"), { recursive: true });
  const project = { name: `tier-${name}` };
  writeProject(workDir, project.name, options);
  const pulumiCommand = await PulumiCommand.get({ root: path.dirname(toolsBin) });
  return LocalWorkspace.createOrSelectStack(
    { stackName: "tier", projectName: project.name, program },
    {
      workDir,
      pulumiCommand,
      envVars: {
        PATH: `${toolsBin}${path.delimiter}${process.env.PATH ?? ""}`,
        PULUMI_HOME: path.join(workDir, "home"),
        PULUMI_BACKEND_URL: `file://${path.join(workDir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "real-tier",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        KUBECONFIG: adminKubeconfig,
      },
    },
  );
}

/** The kinds of change a summary counts, without `same`. */
export function changes(summary: Record<string, number> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(summary ?? {}).filter(([kind, count]) => kind !== "same" && count > 0));
}
