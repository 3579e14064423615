// The built library requires exactly the packages the manifest declares, and carries beside its
// modules the shell scripts it reads when it renders (test/package/ installs the package and runs
// an outside program against it). The build is the package's own `npm run build`, run in a copy of
// the sources so that this repository's dist/ is left alone.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { scriptFiles } from "../../components/shared/script-files";

const root = resolve(__dirname, "..", "..");
/** What the build neither reads nor writes: the copy leaves these out (node_modules is linked). */
const notSources = new Set([".git", "node_modules", "dist", "out", "bench-out", "scratch", "tools", ".kube"]);
const copy = mkdtempSync(join(tmpdir(), "canary-pipeline-build-"));
after(() => rmSync(copy, { recursive: true, force: true }));

test(
  "npm run build: the package's dependencies are exactly what the built library requires, and its scripts are beside it",
  { timeout: 90_000 },
  () => {
    for (const entry of readdirSync(root))
      if (!notSources.has(entry)) cpSync(join(root, entry), join(copy, entry), { recursive: true });
    symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
    execFileSync("npm", ["run", "build", "--silent"], { cwd: copy, stdio: "pipe" });
    const out = join(copy, "dist");
    // What the code requires, and what its declarations import (a consumer's type check resolves those).
    const packagesOf = (suffix: string, specifiers: RegExp) => {
      const found = new Set<string>();
      for (const file of readdirSync(out, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(suffix))) {
        for (const [, specifier] of readFileSync(join(out, file), "utf8").matchAll(specifiers)) {
          if (specifier.startsWith(".") || specifier.startsWith("node:")) continue;
          found.add(
            specifier
              .split("/")
              .slice(0, specifier.startsWith("@") ? 2 : 1)
              .join("/"),
          );
        }
      }
      return found;
    };
    const required = packagesOf(".js", /require\("([^"]+)"\)/g);
    const typed = packagesOf(".d.ts", /(?:from |import\()"([^"]+)"/g);
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    // @pulumi/pulumi is a peer: the consumer's own copy, so the program has one engine connection.
    // The offline render's and the verifier's tools (the Kubernetes schemas, the test runner's tools)
    // are devDependencies: a platform team installing the library does not get them.
    const declared = [...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)].sort();
    assert.deepEqual(declared, [...required].sort());
    for (const pkg of typed)
      assert.ok(declared.includes(pkg), `the declarations import ${pkg}, which the package does not declare`);

    // Every script file, as it is, where the built modules read it (dist/components/scripts).
    const scripts = join(out, "components", "scripts");
    assert.deepEqual(readdirSync(scripts).sort(), Object.keys(scriptFiles).sort());
    for (const name of Object.keys(scriptFiles))
      assert.equal(
        readFileSync(join(scripts, name), "utf8"),
        readFileSync(join(root, "components", "scripts", name), "utf8"),
        name,
      );
    // The built library renders from there: its smoke-test runner ends with the file's text (less its shellcheck directive).
    const rendered = execFileSync(
      process.execPath,
      [
        "-e",
        [
          `const { clusterTargets } = require(${JSON.stringify(join(out, "components", "shared", "cluster-operations.js"))});`,
          `const { smokeTestRunner } = require(${JSON.stringify(join(out, "components", "shared", "smoke-test.js"))});`,
          'const targets = clusterTargets({ appName: "a", namespace: "n" });',
          'process.stdout.write(smokeTestRunner({ targets, podName: targets.smokeTestPod, appName: "a", paths: ["/"], maxLatencySeconds: 1 }));',
        ].join("\n"),
      ],
      { encoding: "utf8" },
    );
    const [directive, ...text] = readFileSync(join(scripts, "smoke-test-runner.sh"), "utf8").trimEnd().split("\n");
    assert.equal(directive, "# shellcheck shell=bash");
    assert.ok(rendered.endsWith(`\n${text.join("\n")}`), rendered.slice(-300));
  },
);
