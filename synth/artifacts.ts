// Turns what a program registered into the files an auditor reads: the repository files the
// stack commits, every Kubernetes object, every IAM policy document and the resource list.
// Kubernetes objects are plain data, written by yaml's stringify; the workflows, which carry
// comments, are written by components/repository/workflows/writer.ts with yaml's Document.
import { stringify } from "yaml";
import { secretMarker, type RegisteredResource } from "../testing/mock-engine";

/** How a secret value reads in every rendered file. */
export const secretPlaceholder = "[secret]";

/** Replaces every secret value with the placeholder. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== "object") return value;
  if (secretMarker in value) return secretPlaceholder;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)]));
}

/** Parses a JSON document held in a string input (IAM policies). */
const jsonDocument = (value: unknown) => (typeof value === "string" ? (JSON.parse(value) as unknown) : value);

const iamDocuments: Record<string, Record<string, string>> = {
  "aws:iam/role:Role": { assumeRolePolicy: "trust" },
  "aws:iam/rolePolicy:RolePolicy": { policy: "policy" },
  "aws:iam/policy:Policy": { policy: "policy" },
};

const repositoryFileType = "github:index/repositoryFile:RepositoryFile";

/** A program the offline render cannot lay out: `npm run synth` prints the message alone. */
export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RenderError";
  }
}

/** Every rendered file, by its path under the output folder. */
export function artifacts(resources: RegisteredResource[]): Map<string, string> {
  const files = new Map<string, string>();
  // One repository: `repo/<path>`, as it lays out in the repository. Several (a platform program
  // declaring many services): `repo/<repository>/<path>`, so that each one's files stay apart.
  const repositories = new Set(
    resources.filter((r) => r.type === repositoryFileType).map((r) => String(r.inputs.repository)),
  );
  const repoFolder = (repository: unknown) => (repositories.size > 1 ? `repo/${String(repository)}` : "repo");
  const add = (path: string, content: string) => {
    if (files.has(path)) throw new RenderError(`two resources render to ${path}: give them distinct names`);
    files.set(path, content);
  };
  const redacted = resources.map((r) => redact(r.inputs) as Record<string, unknown>);
  resources.forEach((r, i) => {
    const inputs = redacted[i];
    if (r.type === repositoryFileType) {
      add(`${repoFolder(inputs.repository)}/${String(inputs.file)}`, String(inputs.content));
    } else if (r.custom && r.type.startsWith("kubernetes:") && typeof inputs.kind === "string") {
      const metadata = (inputs.metadata ?? {}) as { name?: string; namespace?: string };
      add(
        `kubernetes/${inputs.kind}.${metadata.namespace ?? "cluster"}.${metadata.name ?? r.name}.yaml`,
        stringify(inputs, { aliasDuplicateObjects: false, lineWidth: 0 }),
      );
    }
    for (const [input, document] of Object.entries(iamDocuments[r.type] ?? {})) {
      if (inputs[input] !== undefined)
        add(`aws/${r.name}.${document}.json`, `${JSON.stringify(jsonDocument(inputs[input]), null, 2)}\n`);
    }
  });
  const list = resources.map((r, i) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    parent: r.parent ?? null,
    provider: r.provider ?? null,
    dependencies: r.dependencies,
    inputs: redacted[i],
    // A `.get` of the program: read, never created (the engine's checkpoint marks it so).
    ...(r.external ? { external: true, id: r.id } : {}),
  }));
  add("resources.json", `${JSON.stringify(list, null, 2)}\n`);
  return files;
}
