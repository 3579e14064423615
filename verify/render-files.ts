// Reading a render the way an auditor does: from its files alone (written by `npm run synth`,
// or held in memory by a test that may have altered them on purpose).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "yaml";

/** A render's files by path (`resources.json`, `repo/...`, `kubernetes/...`, `aws/...`). */
export type RenderFiles = ReadonlyMap<string, string>;

/** One entry of resources.json. */
interface ResourceEntry {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string | null;
  /** The provider resource it is registered with, when given explicitly (null: the default one). */
  readonly provider: string | null;
  readonly dependencies: readonly string[];
  readonly inputs: Record<string, unknown>;
  /** A read (`.get`) of an object the program does not declare, as Pulumi's checkpoint marks one. */
  readonly external?: boolean;
  /** A read's id: the object it reads (`[namespace/]name` for a Kubernetes object). */
  readonly id?: string;
}

/** A workflow as committed, parsed. */
export interface WorkflowDocument {
  readonly on: unknown;
  readonly permissions?: unknown;
  readonly jobs: Record<
    string,
    {
      readonly environment?: string | { readonly name: string };
      readonly permissions?: unknown;
      readonly steps?: readonly {
        readonly uses?: string;
        readonly run?: string;
        readonly with?: Record<string, unknown>;
        readonly env?: Record<string, unknown>;
      }[];
      readonly [key: string]: unknown;
    }
  >;
}

/** One job of a workflow. */
export type WorkflowJob = WorkflowDocument["jobs"][string];

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

/** A repository the render commits files to. */
export interface CommittedRepository {
  readonly name: string;
  /** The owner of the GitHub provider it commits through (undefined: the default provider, whose owner the render does not show). */
  readonly owner?: string;
}

/** Every repository the render's RepositoryFile resources commit to, once each. */
export function committedRepositories(files: RenderFiles): CommittedRepository[] {
  const entries = resourceEntries(files);
  const owners = new Map(
    entries.filter((r) => r.type === "pulumi:providers:github").map((r) => [r.urn, r.inputs.owner]),
  );
  const found = new Map<string, CommittedRepository>();
  for (const r of entries.filter((e) => e.type === "github:index/repositoryFile:RepositoryFile")) {
    const owner = r.provider === null ? undefined : owners.get(r.provider);
    const repository = { name: String(r.inputs.repository), ...(typeof owner === "string" ? { owner } : {}) };
    found.set(`${repository.owner ?? ""}/${repository.name}`, repository);
  }
  return [...found.values()];
}

/** A committed workflow file of the render. */
interface WorkflowFile {
  /** Where the render holds it, less the leading `repo/`: how findings name it. */
  readonly path: string;
  /** The repository it is committed to (undefined: the render names no single one). */
  readonly repository: string | undefined;
  /** Its path in that repository, `.github/workflows/<name>.yml`. */
  readonly file: string;
  /** The branch the render commits it to (undefined: the repository's default, which the render does not name). */
  readonly branch?: string;
  readonly content: string;
}

/**
 * Where synth/artifacts.ts writes a repository's files: `repo/<path>` when the render commits to
 * one repository, `repo/<repository>/<path>` when to several (a platform program's services).
 */
const workflowPath = /^repo\/(?:([^/]+)\/)?(\.github\/workflows\/[^/]+\.ya?ml)$/;

/** What a check that reads the workflows reports when the render holds none. */
export const noWorkflows =
  "the render holds no workflow file (looked for repo/.github/workflows/*.yml and repo/<repository>/.github/workflows/*.yml): nothing was checked";

/** Every committed workflow file of the render, in either layout. */
export function workflowFiles(files: RenderFiles): WorkflowFile[] {
  const matched = [...files].flatMap(([path, content]) => {
    const m = workflowPath.exec(path);
    return m ? [{ path: path.replace(/^repo\//, ""), folder: m[1], file: m[2], content }] : [];
  });
  // In the one-repository layout, the repository is the one the render commits to.
  const sole = matched.some((w) => w.folder === undefined) ? committedRepositories(files) : [];
  const commits = ofType(files, "github:index/repositoryFile:RepositoryFile");
  return matched.map(({ folder, ...w }) => {
    const repository = folder ?? (sole.length === 1 ? sole[0].name : undefined);
    const branch = commits.find((r) => r.inputs.file === w.file && r.inputs.repository === repository)?.inputs.branch;
    return { ...w, repository, ...(typeof branch === "string" ? { branch } : {}) };
  });
}

/** A committed workflow, parsed. */
export interface Workflow extends WorkflowFile {
  readonly document: WorkflowDocument;
}

/** The committed workflows, parsed. */
export const workflowDocuments = (files: RenderFiles): Workflow[] =>
  workflowFiles(files).map((w) => ({ ...w, document: parse(w.content) as WorkflowDocument }));

/** A rendered Kubernetes object, parsed. */
export interface KubernetesObject {
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  readonly spec?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** Every Kubernetes object of the render, parsed. */
export function kubernetesObjects(files: RenderFiles): KubernetesObject[] {
  return [...files]
    .filter(([p]) => p.startsWith("kubernetes/"))
    .map(([, content]) => parse(content) as KubernetesObject);
}

/** The environment name of a job, in either YAML form. */
export const jobEnvironment = (job: { environment?: string | { name: string } }) =>
  typeof job.environment === "string" ? job.environment : job.environment?.name;
