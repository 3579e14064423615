// Reading a render the way an auditor does: from its files alone (written by `npm run synth`,
// or held in memory by a test that may have altered them on purpose).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "yaml";

/** A render's files by path (`resources.json`, `repo/...`, `kubernetes/...`, `aws/...`). */
export type RenderFiles = ReadonlyMap<string, string>;

/** One entry of resources.json. */
export interface ResourceEntry {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string | null;
  /** The provider resource it is registered with, when given explicitly (null: the default one). */
  readonly provider: string | null;
  readonly dependencies: readonly string[];
  readonly inputs: Record<string, unknown>;
}

/** A workflow as committed, parsed. */
export interface WorkflowDocument {
  readonly on: unknown;
  readonly permissions?: unknown;
  readonly jobs: Record<string, {
    readonly environment?: string | { readonly name: string };
    readonly permissions?: unknown;
    readonly steps?: readonly { readonly uses?: string; readonly run?: string; readonly with?: Record<string, unknown>; readonly env?: Record<string, unknown> }[];
    readonly [key: string]: unknown;
  }>;
}

export function readRenderDir(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path, "utf8"));
    }
  };
  walk(dir);
  return files;
}

export function resourceEntries(files: RenderFiles): ResourceEntry[] {
  const list = files.get("resources.json");
  if (list === undefined) throw new Error("the render has no resources.json");
  return JSON.parse(list) as ResourceEntry[];
}

export const ofType = (files: RenderFiles, type: string) => resourceEntries(files).filter((r) => r.type === type);

/** The committed workflow files, parsed, by repository path. */
export function workflowDocuments(files: RenderFiles): Map<string, WorkflowDocument> {
  return new Map([...files].filter(([p]) => /^repo\/\.github\/workflows\/[^/]+\.ya?ml$/.test(p))
    .map(([p, content]) => [p.replace(/^repo\//, ""), parse(content) as WorkflowDocument]));
}

/** Every Kubernetes object of the render, parsed. */
export function kubernetesObjects(files: RenderFiles): { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: Record<string, unknown>; [key: string]: unknown }[] {
  return [...files].filter(([p]) => p.startsWith("kubernetes/")).map(([, content]) => parse(content) as never);
}

/** The environment name of a job, in either YAML form. */
export const jobEnvironment = (job: { environment?: string | { name: string } }) =>
  typeof job.environment === "string" ? job.environment : job.environment?.name;
