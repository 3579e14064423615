// The package as a platform team installs it: packed (`npm pack`, what a registry would serve) and
// from git (npm clones the repository, installs its devDependencies and runs `prepare`, which
// builds dist/). Each goes into a fresh folder that has its own @pulumi/pulumi (a peer of the
// package); an outside TypeScript program is type-checked against the installed types, then run
// under the mock engine of that folder's SDK, and a unit test of its own runs a token-mode service
// through `canary-pipeline/testing`; the shell scripts the components read are installed beside
// them. The git install takes this repository's HEAD: commit first. npm reads its cache first and
// the registry for what the cache lacks.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { parse } from "yaml";
import { scriptFiles } from "../../components/shared/script-files";

const root = resolve(__dirname, "..", "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  name: string;
  devDependencies: Record<string, string>;
};
const scratch = mkdtempSync(join(tmpdir(), "canary-pipeline-install-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

// A platform program: its own providers given through opts.providers, the shared OIDC provider's
// ARN as an Output, typed settings. It prints what the engine received.
const program = `
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { CanaryPipeline, ClientSideApplyProvider, GithubOidcProvider, type ServiceSettings } from "canary-pipeline";

const settings: ServiceSettings = {
  githubOwner: "acme", githubRepository: "orders-api", appName: "orders-api",
  awsRegion: "eu-west-1", eksClusterName: "acme-prod", initialImage: "ghcr.io/acme/orders-api:1.4.2",
};
// @ts-expect-error replicas is a number: the settings are typed, not free-form.
export const wrong: ServiceSettings = { ...settings, replicas: "9" };

export function platform(): void {
  const oidc = new GithubOidcProvider("github-oidc");
  const providers = [new ClientSideApplyProvider("cluster", { context: "acme-prod" }), new github.Provider("github", { owner: "acme" })];
  new CanaryPipeline("orders", { settings, oidcProviderArn: oidc.arn, secrets: { slackWebhook: pulumi.secret("https://hooks.example/x") } }, { providers });
}
`;

const main = `
import * as pulumi from "@pulumi/pulumi";
import { dirname } from "node:path";
import { platform } from "./program";

const registered: { type: string; name: string; provider: string }[] = [];
pulumi.runtime.setMocks({
  newResource: (args) => {
    registered.push({ type: args.type, name: args.name, provider: args.provider ?? "" });
    const arn = args.type === "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
      ? "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
      : "arn:aws:iam::123456789012:role/" + args.name;
    return { id: args.name + "-id", state: { ...args.inputs, arn } };
  },
  call: (args) => args.inputs,
}, "platform", "dev");

async function run(): Promise<void> {
  await pulumi.runtime.runInPulumiStack(async () => { platform(); return {}; });
  await pulumi.runtime.disconnect();
  const sdk = (from: string) => require.resolve("@pulumi/pulumi", { paths: [dirname(require.resolve(from))] });
  console.log(JSON.stringify({
    registered,
    sdk: { consumer: require.resolve("@pulumi/pulumi"), library: sdk("canary-pipeline"), kubernetes: sdk("@pulumi/kubernetes"), aws: sdk("@pulumi/aws") },
  }));
}
void run();
`;

// A platform team's unit test through `canary-pipeline/testing`: a token-mode service renders under
// the package's mocks, nothing mocked by hand (the token Secret's data.token included).
const tokenTest = `
import { dirname } from "node:path";
import { CanaryPipeline, type ServiceSettings } from "canary-pipeline";
import { mockServiceAccountToken, runProgram, secretMarker, type RunProgramArgs, type RunProgramResult } from "canary-pipeline/testing";

const settings: ServiceSettings = {
  githubOwner: "acme", githubRepository: "billing", appName: "billing", initialImage: "ghcr.io/acme/billing:2.0.0", clusterAuth: "token",
};
const clusterCaData = Buffer.from("-----BEGIN CERTIFICATE-----\\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAj\\n-----END CERTIFICATE-----\\n").toString("base64");
const args: RunProgramArgs = {
  stack: "prod",
  program: () => {
    const billing = new CanaryPipeline("billing", { settings, clusterEndpoint: "https://k8s.acme.example:6443", clusterCaData });
    return { deployerKubeconfig: billing.cluster.kubeconfig, serviceAccount: billing.deployerServiceAccount };
  },
};

export function readOnly(result: RunProgramResult): void {
  // @ts-expect-error what the run registered is read-only.
  result.resources.push(result.resources[0]);
}

async function run(): Promise<void> {
  const { resources, outputs } = await runProgram(args);
  const sdk = (from: string) => require.resolve("@pulumi/pulumi", { paths: [dirname(require.resolve(from))] });
  console.log(JSON.stringify({
    mockServiceAccountToken, secretMarker, outputs,
    resources: resources.map((r) => ({ type: r.type, name: r.name, secret: JSON.stringify(r.inputs).includes(secretMarker) })),
    sdk: { consumer: require.resolve("@pulumi/pulumi"), testing: sdk("canary-pipeline/testing") },
  }));
}
void run();
`;

/** Every installed copy of @pulumi/pulumi under `dir`, nested node_modules included. */
function sdkCopies(dir: string): string[] {
  const modules = join(dir, "node_modules");
  if (!existsSync(modules)) return [];
  return readdirSync(modules).flatMap((entry) => {
    const packages = entry.startsWith("@")
      ? readdirSync(join(modules, entry)).map((p) => join(modules, entry, p))
      : [join(modules, entry)];
    return packages.flatMap((p) => [...(p.endsWith(join("@pulumi", "pulumi")) ? [p] : []), ...sdkCopies(p)]);
  });
}

/** A fresh consumer project depending on `dependency` (an npm spec) and its own @pulumi/pulumi. */
function install(folder: string, dependency: string): string {
  const project = join(scratch, folder);
  execFileSync("mkdir", ["-p", project]);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify(
      {
        name: `consumer-${folder}`,
        version: "1.0.0",
        private: true,
        dependencies: {
          [manifest.name]: dependency,
          "@pulumi/pulumi": manifest.devDependencies["@pulumi/pulumi"],
          "@types/node": manifest.devDependencies["@types/node"],
        },
      },
      null,
      2,
    ),
  );
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: project,
    stdio: "pipe",
  });
  writeFileSync(join(project, "program.ts"), program);
  writeFileSync(join(project, "main.ts"), main);
  writeFileSync(join(project, "token.ts"), tokenTest);
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: "node16",
        moduleResolution: "node16",
        target: "ES2022",
        types: ["node"],
        skipLibCheck: true,
        outDir: "build",
      },
      files: ["main.ts", "token.ts"],
    }),
  );
  return project;
}

/** Type-checks and builds the consumer, runs it, and checks what it registered. */
function checkConsumer(project: string): void {
  execFileSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" });
  const report = JSON.parse(
    execFileSync(process.execPath, [join(project, "build", "main.js")], { cwd: project, encoding: "utf8" }),
  ) as {
    registered: { type: string; name: string; provider: string }[];
    sdk: Record<string, string>;
  };
  const types = new Set(report.registered.map((r) => r.type));
  for (const type of [
    "canary-pipeline:index:CanaryPipeline",
    "canary-pipeline:kubernetes:CanaryCluster",
    "kubernetes:apps/v1:Deployment",
    "aws:iam/role:Role",
    "github:index/repositoryFile:RepositoryFile",
  ]) {
    assert.ok(types.has(type), `${type} registered`);
  }
  // The program's own providers, and no second one.
  assert.deepEqual(
    report.registered
      .filter((r) => r.type.startsWith("pulumi:providers:"))
      .map((r) => r.name)
      .sort(),
    ["cluster", "github"],
  );
  for (const r of report.registered.filter((r) => r.type.startsWith("kubernetes:")))
    assert.match(r.provider, /::cluster::/, r.name);
  // One SDK: the library and the provider SDKs load the consumer's @pulumi/pulumi.
  assert.deepEqual(new Set(Object.values(report.sdk)).size, 1, JSON.stringify(report.sdk));
  assert.deepEqual(sdkCopies(project), [join(project, "node_modules", "@pulumi", "pulumi")]);
  assert.ok(existsSync(join(project, "node_modules", manifest.name, "dist", "library.d.ts")), "types installed");
  // The shell scripts the components read when they render (the run above rendered the workflows), as they are.
  const scripts = join(project, "node_modules", manifest.name, "dist", "components", "scripts");
  for (const name of Object.keys(scriptFiles)) {
    assert.equal(
      readFileSync(join(scripts, name), "utf8"),
      readFileSync(join(root, "components", "scripts", name), "utf8"),
      `${name} installed`,
    );
  }
  checkTesting(project);
}

/** Runs the consumer's token-mode unit test (canary-pipeline/testing) and checks what it found. */
function checkTesting(project: string): void {
  const report = JSON.parse(
    execFileSync(process.execPath, [join(project, "build", "token.js")], { cwd: project, encoding: "utf8" }),
  ) as {
    mockServiceAccountToken: string;
    secretMarker: string;
    outputs: { deployerKubeconfig: string; serviceAccount: string };
    resources: { type: string; name: string; secret: boolean }[];
    sdk: Record<string, string>;
  };
  // The deployer's kubeconfig resolved with the token the mocks put in its token Secret.
  const kubeconfig = parse(report.outputs.deployerKubeconfig) as {
    clusters: { cluster: { server: string } }[];
    users: { user: { token?: string } }[];
  };
  assert.deepEqual(
    kubeconfig.users.map((u) => u.user.token),
    [report.mockServiceAccountToken],
  );
  assert.equal(kubeconfig.clusters[0].cluster.server, "https://k8s.acme.example:6443");
  assert.equal(typeof report.outputs.serviceAccount, "string");
  const deployments = report.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment");
  assert.ok(
    deployments.length >= 2,
    `the stable and canary Deployments registered: ${deployments.map((d) => d.name).join(", ")}`,
  );
  assert.ok(report.resources.some((r) => r.type === "canary-pipeline:index:CanaryPipeline" && r.name === "billing"));
  assert.ok(
    report.resources.some(
      (r) => r.type === "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret" && r.secret,
    ),
    "secret inputs marked",
  );
  // The testing entry point registers with the consumer's own SDK.
  assert.equal(report.sdk.testing, report.sdk.consumer);
  assert.ok(
    existsSync(join(project, "node_modules", manifest.name, "dist", "testing", "index.d.ts")),
    "testing types installed",
  );
}

describe("the installed package", { concurrency: 2 }, () => {
  test("packed: npm pack, then installed into a fresh project", { timeout: 240_000 }, () => {
    execFileSync("npm", ["pack", "--pack-destination", scratch, "--loglevel=error"], { cwd: root, stdio: "pipe" });
    const tarball = readdirSync(scratch).find((f) => f.endsWith(".tgz"));
    assert.ok(tarball, "npm pack wrote a tarball");
    checkConsumer(install("packed", `file:${join(scratch, tarball)}`));
  });

  test("from git: npm installs, builds (prepare) and packs the repository's HEAD", { timeout: 240_000 }, () => {
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    checkConsumer(install("git", `git+file://${root}#${head}`));
  });
});
