// summary.md: what the stack declares, per component, with the pipeline's job graph and the
// resource graph as Mermaid diagrams. Built from the rendered artifacts alone.
import { parse } from "yaml";
import type { RegisteredResource } from "../testing/mock-engine";
import { groupBy, topLevelOf } from "./top-level";

/** `Role` for `aws:iam/role:Role`; `kubernetes provider` for `pulumi:providers:kubernetes`. */
const shortType = (type: string) =>
  type.startsWith("pulumi:providers:") ? `${type.split(":")[2]} provider` : (type.split(":").pop() ?? type);
const nodeId = (index: number) => `r${index}`;
const label = (text: string) => text.replace(/"/g, "'");

function componentSection(resources: RegisteredResource[]): string[] {
  const children = groupBy(resources, (r) => r.parent);
  const lines: string[] = [];
  const walk = (r: RegisteredResource, depth: number) => {
    lines.push(`${"  ".repeat(depth)}- \`${r.name}\` (${r.type})`);
    for (const c of children.get(r.urn) ?? []) walk(c, depth + 1);
  };
  for (const root of resources.filter((r) => !r.parent)) walk(root, 0);
  return lines;
}

interface WorkflowJobs {
  jobs?: Record<string, { needs?: string | string[]; name?: string; if?: string; environment?: unknown }>;
}

function jobGraphs(files: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const [path, content] of [...files]
    .filter(([p]) => /^repo\/([^/]+\/)?\.github\/workflows\/.*\.ya?ml$/.test(p))
    .sort()) {
    const workflow = parse(content) as WorkflowJobs;
    lines.push(`### ${path.replace(/^repo\//, "")}`, "", "```mermaid", "flowchart LR");
    for (const [id, job] of Object.entries(workflow.jobs ?? {})) {
      lines.push(`  ${id}["${label(job.name ?? id)}"]`);
      const needs = typeof job.needs === "string" ? [job.needs] : (job.needs ?? []);
      for (const n of needs) lines.push(`  ${n} --> ${id}`);
    }
    lines.push("```", "");
  }
  return lines.length > 0 ? lines : ["No workflow files are rendered by this stack.", ""];
}

/**
 * The resource graph, one diagram per part of the program: each component declared at the top of
 * the program (a service), and the resources declared there themselves. One diagram for a whole
 * platform would pass the limits a Mermaid renderer keeps (500 edges, 50,000 characters), and a
 * reader wants a service at a time. A resource of another part is drawn apart, as a rounded node.
 */
function resourceGraphs(resources: RegisteredResource[]): string[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const top = topLevelOf(resources);
  // Custom resources declared at the top share one part (""); a top-level component is a part.
  const parts = groupBy(
    resources.filter((r) => r.custom),
    (r) => {
      const t = top(r);
      return t === undefined || t.custom ? "" : t.urn;
    },
  );
  const lines: string[] = [];
  for (const [part, members] of [...parts].sort(([a], [b]) => a.localeCompare(b))) {
    const component = byUrn.get(part);
    lines.push(
      component ? `### \`${component.name}\` (${shortType(component.type)})` : "### Declared at the top of the program",
      "",
      "```mermaid",
      "flowchart LR",
    );
    const ids = new Map(members.map((r, i) => [r.urn, nodeId(i)]));
    members.forEach((r) => lines.push(`  ${ids.get(r.urn)}["${label(`${shortType(r.type)}: ${r.name}`)}"]`));
    for (const r of members) {
      for (const d of r.dependencies) {
        const dependency = byUrn.get(d);
        if (!dependency?.custom) continue;
        if (!ids.has(d)) {
          ids.set(d, `x${ids.size}`);
          lines.push(`  ${ids.get(d)}("${label(`${shortType(dependency.type)}: ${dependency.name}`)}")`);
        }
        lines.push(`  ${ids.get(d)} --> ${ids.get(r.urn)}`);
      }
    }
    lines.push("```", "");
  }
  return lines;
}

export function summary(stack: string, resources: RegisteredResource[], files: Map<string, string>): string {
  const custom = resources.filter((r) => r.custom);
  const byType = new Map<string, number>();
  for (const r of custom) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
  return [
    `# Stack \`${stack}\`: offline render`,
    "",
    `${custom.length} resources in ${resources.length - custom.length} components.`,
    "",
    "| type | count |",
    "|---|---|",
    ...[...byType].sort(([a], [b]) => a.localeCompare(b)).map(([t, n]) => `| ${t} | ${n} |`),
    "",
    "## Components",
    "",
    ...componentSection(resources),
    "",
    "## Pipeline job graphs",
    "",
    ...jobGraphs(files),
    "## Resource graph",
    "",
    "An arrow points from a resource to one that waits for it; a rounded node belongs to another part.",
    "",
    ...resourceGraphs(resources),
  ].join("\n");
}
