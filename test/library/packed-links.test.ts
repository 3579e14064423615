// The packed package stands on its own: every relative link of its README and of the docs it
// ships points at a file the package contains and, with a #fragment, at a heading of that file
// (as GitHub and npm render it: github-slugger's slugs). The file list is npm's own.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { test } from "node:test";
import GithubSlugger from "github-slugger";

const root = join(__dirname, "../..");

/** The files `npm pack` puts in the package, as npm computes them from `files` (no build needed). */
function packedFiles(): string[] {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
}

/** The relative links of a Markdown text: [text](target), outside code spans and fences. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((target) => !/^[a-z]+:/i.test(target));
}

/** The anchors of a Markdown file's headings. */
function anchors(markdown: string): Set<string> {
  const slugger = new GithubSlugger();
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, "");
  return new Set([...prose.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)].map((m) => slugger.slug(m[1])));
}

test("every relative link of the packed README and docs resolves inside the package", () => {
  const files = packedFiles();
  assert.ok(files.includes("LICENSE"), "the package carries its LICENSE");
  const pages = files.filter((f) => f === "README.md" || (f.startsWith("docs/") && f.endsWith(".md")));
  assert.ok(pages.length > 1, `the package ships its docs: ${pages.join(", ")}`);
  const broken: string[] = [];
  let checked = 0;
  for (const page of pages) {
    const text = readFileSync(join(root, page), "utf8");
    for (const link of relativeLinks(text)) {
      checked++;
      const [path, fragment] = link.split("#");
      const target = path === "" ? page : normalize(join(dirname(page), path));
      if (!files.includes(target)) {
        broken.push(`${page}: ${link} (${target} is not in the package)`);
      } else if (
        fragment !== undefined &&
        target.endsWith(".md") &&
        !anchors(readFileSync(join(root, target), "utf8")).has(fragment)
      ) {
        broken.push(`${page}: ${link} (no heading of ${target} has the anchor #${fragment})`);
      }
    }
  }
  assert.ok(checked > 20, `only ${checked} links found: the link pattern is wrong`);
  assert.deepEqual(broken, []);
});

test("the check finds a link outside the package and a missing anchor", () => {
  assert.deepEqual(relativeLinks("see [a](docs/x.md#y), `[b](c.md)` and [c](https://example.com)"), ["docs/x.md#y"]);
  assert.ok(anchors("# Title\n## What the pipeline guarantees\n").has("what-the-pipeline-guarantees"));
  assert.ok(!anchors("## Other\n").has("what-the-pipeline-guarantees"));
});
