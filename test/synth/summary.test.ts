// summary.md at platform scale: one resource diagram per part of the program, each within the
// limits a Mermaid renderer keeps (GitHub's refuses a diagram past them).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { RegisteredResource } from "../../testing/mock-engine";
import { summary } from "../../synth/summary";

const mermaidLimits = { edges: 500, characters: 50_000 };
const stack = "urn:pulumi:p::proj::pulumi:pulumi:Stack::proj-p";
const urn = (qualifiedType: string, name: string) => `urn:pulumi:p::proj::${qualifiedType}::${name}`;

/** A platform: a provider declared at the top, and `services` components of 20 resources each, every one waiting for the provider and its predecessor. */
function platform(services: number): RegisteredResource[] {
  const provider: RegisteredResource = {
    urn: urn("pulumi:providers:kubernetes", "shared-cluster"),
    type: "pulumi:providers:kubernetes",
    name: "shared-cluster",
    parent: stack,
    dependencies: [],
    inputs: {},
    custom: true,
  };
  const resources: RegisteredResource[] = [
    { urn: stack, type: "pulumi:pulumi:Stack", name: "proj-p", dependencies: [], inputs: {}, custom: false },
    provider,
  ];
  for (let s = 0; s < services; s++) {
    const component = {
      urn: urn("pkg:index:Service", `svc-${s}`),
      type: "pkg:index:Service",
      name: `svc-${s}`,
      parent: stack,
      dependencies: [],
      inputs: {},
      custom: false,
    };
    resources.push(component);
    for (let i = 0; i < 20; i++) {
      const previous = i > 0 ? [urn("pkg:index:Service$kubernetes:core/v1:ConfigMap", `svc-${s}-${i - 1}`)] : [];
      resources.push({
        urn: urn("pkg:index:Service$kubernetes:core/v1:ConfigMap", `svc-${s}-${i}`),
        type: "kubernetes:core/v1:ConfigMap",
        name: `svc-${s}-${i}`,
        parent: component.urn,
        dependencies: [provider.urn, ...previous],
        inputs: {},
        custom: true,
      });
    }
  }
  return resources;
}

const diagrams = (markdown: string) => {
  const graph = markdown.slice(markdown.indexOf("## Resource graph"));
  return [...graph.matchAll(/### (.+)\n\n```mermaid\n([\s\S]*?)```/g)].map(([, heading, body]) => ({ heading, body }));
};

test("sixty services: a diagram per service and one for the top of the program, each within Mermaid's limits", () => {
  const found = diagrams(summary("p", platform(60), new Map()));
  assert.equal(found.length, 61);
  assert.equal(found[0].heading, "Declared at the top of the program");
  assert.equal(found[1].heading, "`svc-0` (Service)");
  for (const d of found) {
    assert.ok((d.body.match(/-->/g) ?? []).length <= mermaidLimits.edges, d.heading);
    assert.ok(d.body.length <= mermaidLimits.characters, d.heading);
  }
  // A service's diagram: its 20 resources, their 19 links, and the shared provider drawn apart.
  const service = found[1].body;
  assert.equal((service.match(/^ {2}r\d+\["/gm) ?? []).length, 20);
  assert.match(service, /^ {2}x20\("kubernetes provider: shared-cluster"\)$/m);
  assert.equal((service.match(/-->/g) ?? []).length, 39);
});
