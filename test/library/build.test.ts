// The built library requires exactly the packages the manifest declares (test/package/ installs
// the package and runs an outside program against it).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";

const root = resolve(__dirname, "..", "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");

test("the package's dependencies are exactly what the built library requires", { timeout: 60_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), "canary-pipeline-dist-"));
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", out], { cwd: root, stdio: "pipe" });
  // What the code requires, and what its declarations import (a consumer's type check resolves those).
  const packagesOf = (suffix: string, specifiers: RegExp) => {
    const found = new Set<string>();
    for (const file of readdirSync(out, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(suffix))) {
      for (const [, specifier] of readFileSync(join(out, file), "utf8").matchAll(specifiers)) {
        if (specifier.startsWith(".") || specifier.startsWith("node:")) continue;
        found.add(specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/"));
      }
    }
    return found;
  };
  const required = packagesOf(".js", /require\("([^"]+)"\)/g);
  const typed = packagesOf(".d.ts", /(?:from |import\()"([^"]+)"/g);
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string>; peerDependencies: Record<string, string> };
  // @pulumi/pulumi is a peer: the consumer's own copy, so the program has one engine connection.
  // The offline render's and the verifier's tools (the Kubernetes schemas, the test runner's tools)
  // are devDependencies: a platform team installing the library does not get them.
  const declared = [...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)].sort();
  assert.deepEqual(declared, [...required].sort());
  for (const pkg of typed) assert.ok(declared.includes(pkg), `the declarations import ${pkg}, which the package does not declare`);
});
