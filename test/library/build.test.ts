// `npm run build` emits a package an outside TypeScript program can import by name, type-check
// against and load: built into a temporary project's node_modules/canary-pipeline, beside links
// to the dependencies, then `tsc --noEmit` on a program that declares a service with typed Args.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";

const root = resolve(__dirname, "..", "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");

const consumer = `
import * as pulumi from "@pulumi/pulumi";
import { CanaryPipeline, GithubOidcProvider, RepositoryPipeline, type CanaryPipelineArgs, type ServiceSettings } from "canary-pipeline";

const settings: ServiceSettings = {
  githubOwner: "acme", githubRepository: "orders-api", appName: "orders-api",
  awsRegion: "eu-west-1", eksClusterName: "acme-prod", initialImage: "ghcr.io/acme/orders-api:1.4.2",
};
// @ts-expect-error replicas is a number: the settings are typed, not free-form.
const wrong: ServiceSettings = { ...settings, replicas: "9" };

export = () => {
  const oidc = new GithubOidcProvider("github-oidc");
  const args: CanaryPipelineArgs = { settings, oidcProviderArn: oidc.arn, secrets: { slackWebhook: pulumi.secret("https://hooks.example/x") } };
  const pipeline = new CanaryPipeline("orders", args);
  const repository: RepositoryPipeline = pipeline.repository;
  return { urn: pipeline.urn, environment: repository.environment, wrong };
};
`;

test("npm run build emits a package an outside program imports and type-checks", { timeout: 60_000 }, () => {
  const project = mkdtempSync(join(tmpdir(), "canary-pipeline-consumer-"));
  const modules = join(project, "node_modules");
  const pkg = join(modules, "canary-pipeline");
  mkdirSync(pkg, { recursive: true });
  // The build, into the package folder (the same tsconfig.build.json npm run build uses).
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", join(pkg, "dist")], { cwd: root, stdio: "pipe" });
  copyFileSync(join(root, "package.json"), join(pkg, "package.json"));
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  // The package's dependencies, and Node's types, as an install would place them.
  for (const dependency of [...new Set([...Object.keys(manifest.dependencies).map((d) => d.split("/")[0]), "@types"])]) {
    symlinkSync(join(root, "node_modules", dependency), join(modules, dependency), "dir");
  }
  writeFileSync(join(project, "index.ts"), consumer);
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
    compilerOptions: { strict: true, module: "node16", moduleResolution: "node16", target: "ES2022", types: ["node"], skipLibCheck: true, noEmit: true },
    files: ["index.ts"],
  }));
  const check = spawnSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  // And it loads: `exports` resolves the name to the compiled entry.
  const loaded = spawnSync(process.execPath, ["-e", "const p = require('canary-pipeline'); if (typeof p.CanaryPipeline !== 'function' || typeof p.parseStackConfig !== 'function') process.exit(1)"], { cwd: project, encoding: "utf8" });
  assert.equal(loaded.status, 0, loaded.stderr);
});

test("the package's dependencies are exactly what the built library requires", { timeout: 60_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), "canary-pipeline-dist-"));
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", out], { cwd: root, stdio: "pipe" });
  const required = new Set<string>();
  for (const file of readdirSync(out, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"))) {
    for (const [, specifier] of readFileSync(join(out, file), "utf8").matchAll(/require\("([^"]+)"\)/g)) {
      if (specifier.startsWith(".") || specifier.startsWith("node:")) continue;
      required.add(specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/"));
    }
  }
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string>; peerDependencies: Record<string, string> };
  // @pulumi/pulumi is a peer: the consumer's own copy, so the program has one engine connection.
  // The offline render's and the verifier's tools (the Kubernetes schemas, the test runner's tools)
  // are devDependencies: a platform team installing the library does not get them.
  assert.deepEqual([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)].sort(), [...required].sort());
});
