// The layers the imports keep (issue #20): config/ (the settings and their rules) depends on no
// component, and the cluster side reads nothing of the repository side but the deploy plan. Read by
// dpdm's own parser (type imports included), as `npm run lint:cycles` reads the project for cycles.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDependencyTree } from "dpdm";

/** Each file matching `files` with the project files it imports, type imports included. */
async function importsOf(files: string): Promise<Map<string, string[]>> {
  const tree = await parseDependencyTree(files, {
    context: process.cwd(),
    transform: false,
    skipDynamicImports: false,
  });
  return new Map(
    Object.entries(tree).map(([file, deps]) => [
      file,
      (deps ?? []).flatMap((d) => (d.id !== null && !d.id.includes("node_modules") ? [d.id] : [])),
    ]),
  );
}

test("no file under config/ imports anything under components/, directly or through another file", async () => {
  const imports = await importsOf("config/**/*.ts");
  assert.deepEqual(
    [...imports.keys()].filter((file) => file.startsWith("components/")),
    [],
  );
  assert.ok(imports.has("config/schema.ts") && imports.has("config/errors.ts"), [...imports.keys()].join(", "));
});

test("no file under components/cluster/ imports the repository side, but its deploy plan", async () => {
  const imports = await importsOf("components/cluster/**/*.ts");
  const sideways = [...imports]
    .filter(([file]) => file.startsWith("components/cluster/"))
    .flatMap(([file, deps]) =>
      deps
        .filter(
          (d) => d.startsWith("components/repository/") && !d.startsWith("components/repository/workflows/deploy/"),
        )
        .map((d) => `${file} -> ${d}`),
    );
  assert.deepEqual(sideways, []);
});
