// summary.md: what the stack declares, per component, with the pipeline's job graph and the
// resource graph as Mermaid diagrams. Built from the rendered artifacts alone.
// js-yaml, not yaml: only job ids and needs are read here, and js-yaml's plain load is some six
// times faster than yaml's document parse, which keeps what a round trip needs (the files are
// written with yaml, and verify/ reads them strictly with it).
import { load } from "js-yaml";
import type { RegisteredResource } from "./mock-engine";

const shortType = (type: string) => type.split(":").pop() ?? type;
const nodeId = (index: number) => `r${index}`;
const label = (text: string) => text.replace(/"/g, "'");

function componentSection(resources: RegisteredResource[]): string[] {
  const children = new Map<string, RegisteredResource[]>();
  // Appended in place: copying the list per child made this quadratic in a component's children.
  for (const r of resources) {
    if (!r.parent) continue;
    const siblings = children.get(r.parent);
    if (siblings) siblings.push(r);
    else children.set(r.parent, [r]);
  }
  const lines: string[] = [];
  const walk = (r: RegisteredResource, depth: number) => {
    lines.push(`${"  ".repeat(depth)}- \`${r.name}\` (${r.type})`);
    for (const c of children.get(r.urn) ?? []) walk(c, depth + 1);
  };
  for (const root of resources.filter((r) => !r.parent)) walk(root, 0);
  return lines;
}

interface WorkflowJobs { jobs?: Record<string, { needs?: string | string[]; name?: string; if?: string; environment?: unknown }> }

function jobGraphs(files: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const [path, content] of [...files].filter(([p]) => /^repo\/([^/]+\/)?\.github\/workflows\/.*\.ya?ml$/.test(p)).sort()) {
    const workflow = load(content) as WorkflowJobs;
    lines.push(`### ${path.replace(/^repo\//, "")}`, "", "```mermaid", "flowchart LR");
    for (const [id, job] of Object.entries(workflow.jobs ?? {})) {
      lines.push(`  ${id}["${label(job.name ?? id)}"]`);
      const needs = typeof job.needs === "string" ? [job.needs] : job.needs ?? [];
      for (const n of needs) lines.push(`  ${n} --> ${id}`);
    }
    lines.push("```", "");
  }
  return lines.length > 0 ? lines : ["No workflow files are rendered by this stack.", ""];
}

function resourceGraph(resources: RegisteredResource[]): string[] {
  const custom = resources.filter((r) => r.custom);
  const index = new Map(custom.map((r, i) => [r.urn, i]));
  const lines = ["```mermaid", "flowchart LR"];
  custom.forEach((r, i) => lines.push(`  ${nodeId(i)}["${label(`${shortType(r.type)}: ${r.name}`)}"]`));
  custom.forEach((r, i) => {
    for (const d of r.dependencies) if (index.has(d)) lines.push(`  ${nodeId(index.get(d)!)} --> ${nodeId(i)}`);
  });
  lines.push("```");
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
    "An arrow points from a resource to one that waits for it.",
    "",
    ...resourceGraph(resources),
    "",
  ].join("\n");
}
