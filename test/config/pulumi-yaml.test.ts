// Pulumi.yaml's `config:` block and docs/configuration.md's table are what `npm run docs:config`
// generates from the schema, and the stack files agree with it: every key declared once with the
// schema's type, description and default, and each stack file valid, for Pulumi's own type check
// of the declarations too.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parse } from "yaml";
import {
  generatedConfigurationDoc,
  generatedFiles,
  generatedPulumiYaml,
  replaceBetweenMarkers,
} from "../../config/generate-docs";
import {
  configDeclarations,
  otherOidcProviderCreators,
  otherRepoWorkflowOwners,
  otherStackIdentities,
  parseStackConfig,
} from "../../config/load";
import { projectName } from "../../config/schema";

interface Declared {
  type?: string;
  description: string;
  default?: unknown;
  secret?: boolean;
  items?: { type: string; items?: unknown };
}
const project = parse(readFileSync("Pulumi.yaml", "utf8")) as {
  name: string;
  runtime: { name: string; options: Record<string, unknown> };
  options?: Record<string, unknown>;
  config: Record<string, Declared>;
};

test("the project is named and starts under tsx, without the vendored ts-node's type check", () => {
  assert.equal(project.name, projectName);
  assert.equal(project.runtime.name, "nodejs");
  assert.equal(project.runtime.options.typescript, false);
  assert.equal(project.runtime.options.nodeargs, "--import tsx");
});

test("every update refreshes first: ignoreChanges alone lets pulumi up revert a release (the real tier, scenario 4)", () => {
  assert.deepEqual(project.options, { refresh: "always" });
});

for (const [name, file, generate] of [
  ["Pulumi.yaml's config: block", generatedFiles.pulumiYaml, generatedPulumiYaml],
  ["docs/configuration.md's table", generatedFiles.configurationDoc, generatedConfigurationDoc],
] as const) {
  test(`${name} is what npm run docs:config generates from the schema`, () => {
    const committed = readFileSync(file.path, "utf8");
    assert.equal(committed, generate(committed), "stale: run npm run docs:config");
  });
}

test("the generator replaces only what is between the markers, and refuses a file without them", () => {
  const marker = { path: "x", begin: "# begin", end: "# end" };
  assert.equal(
    replaceBetweenMarkers("above\n# begin\nold\nlines\n# end\nbelow\n", marker, "new\n"),
    "above\n# begin\nnew\n# end\nbelow\n",
  );
  assert.throws(
    () => replaceBetweenMarkers("above\n# begin\nold\n", marker, "new\n"),
    /x: the marker lines "# begin" and "# end" are missing/,
  );
});

test("Pulumi.yaml declares exactly the schema's settings, with their types, descriptions and defaults", () => {
  const expected = Object.fromEntries(
    configDeclarations()
      .filter((d) => !d.undeclared)
      .map(({ key, ...d }) => [
        key,
        {
          ...(d.type ? { type: d.type } : {}),
          description: d.description,
          ...(d.items ? { items: d.items } : {}),
          ...(d.default !== undefined ? { default: d.default } : {}),
          ...(d.secret ? { secret: true } : {}),
        },
      ]),
  );
  assert.deepEqual(project.config, expected);
});

const pulumiTypes = ["string", "integer", "boolean", "array"];
test("every declared setting has a type Pulumi.yaml allows, so the CLI checks each stack value against it", () => {
  for (const [key, d] of Object.entries(project.config)) {
    assert.ok(d.type !== undefined && pulumiTypes.includes(d.type), `${key}: ${d.type}`);
    assert.equal(d.type === "array", d.items !== undefined, `${key}: an array, and only an array, declares its items`);
    if (d.items)
      assert.ok(pulumiTypes.includes(d.items.type) && d.items.type !== "array", `${key}: items ${d.items.type}`);
    assert.ok(d.description.length > 0, `${key} has a description`);
  }
});

// The CLI requires every key declared without a default (pulumi/pulumi pkg/workspace/config.go,
// mergeConfig): such a key must be one the schema requires too, and every optional setting
// without a default is left out of the block, listed under it instead. The real tier runs the CLI
// itself on the project's files (test/cluster/project.test.ts).
const requiredSettings = {
  githubOwner: "acme",
  githubRepository: "orders-api",
  appName: "orders-api",
  initialImage: "ghcr.io/acme/orders-api:1.4.2",
};
test("a key declared without a default is one the schema requires; the optional ones are listed, not declared", () => {
  assert.deepEqual(
    Object.entries(project.config)
      .filter(([, d]) => d.default === undefined)
      .map(([key]) => key)
      .sort(),
    Object.keys(requiredSettings).sort(),
  );
  const token = {
    clusterAuth: "token",
    clusterEndpoint: "https://127.0.0.1:6443",
    clusterCaData: Buffer.from("-----BEGIN CERTIFICATE-----").toString("base64"),
  };
  const noSecrets = { ghcrPullToken: false, slackWebhook: false };
  assert.doesNotThrow(() => parseStackConfig({ ...requiredSettings, ...token }, "dev", noSecrets));
  for (const key of Object.keys(requiredSettings)) {
    const without: Record<string, unknown> = { ...requiredSettings, ...token };
    delete without[key];
    assert.throws(() => parseStackConfig(without, "dev", noSecrets), new RegExp(`${key}: is required`), key);
  }
  const text = readFileSync("Pulumi.yaml", "utf8");
  const undeclared = configDeclarations().filter((d) => d.undeclared);
  assert.ok(undeclared.some((d) => d.key === "canaryAnalysis") && undeclared.some((d) => d.key === "ghcrPullToken"));
  for (const d of undeclared) {
    assert.equal(project.config[d.key], undefined, d.key);
    assert.equal(d.default, undefined, `${d.key}: a setting with a default is declared`);
    assert.match(text, new RegExp(`^#   ${d.key} \\(`, "m"), `${d.key} is listed under the block`);
  }
});

// Pulumi checks each stack value against its declaration before the program runs: a scalar as the
// stack file's text (string takes any; integer takes text of a whole number; boolean true or
// false), a list with its JSON types, item by item.
function pulumiAccepts(d: { type?: string; items?: { type: string } }, value: unknown, inList = false): boolean {
  const scalar = typeof value === "number" || typeof value === "boolean" ? (inList ? value : String(value)) : value;
  switch (d.type) {
    case "string":
      return typeof scalar === "string";
    case "integer":
      return Number.isInteger(scalar) || (typeof scalar === "string" && /^[+-]?\d+$/.test(scalar));
    case "boolean":
      return typeof scalar === "boolean" || scalar === "true" || scalar === "false";
    case undefined:
      return true;
    default:
      return (
        Array.isArray(value) && d.items !== undefined && value.every((item) => pulumiAccepts(d.items!, item, true))
      );
  }
}

test("Pulumi's type check takes the stack files' values, and nodeVersions as numbers or text", () => {
  const undeclared = new Set(
    configDeclarations()
      .filter((d) => d.undeclared)
      .map((d) => d.key),
  );
  for (const stack of ["dev", "prod"]) {
    const values = (parse(readFileSync(`Pulumi.${stack}.yaml`, "utf8")) as { config: Record<string, unknown> }).config;
    for (const [key, value] of Object.entries(values)) {
      const name = key.replace(`${projectName}:`, "");
      const d = project.config[name];
      if (key.startsWith(`${projectName}:`) && !undeclared.has(name))
        assert.ok(d && pulumiAccepts(d, value), `Pulumi.${stack}.yaml: ${key}`);
    }
  }
  for (const value of [
    [22, 24],
    ["22", "24"],
  ])
    assert.ok(pulumiAccepts(project.config.nodeVersions, value), JSON.stringify(value));
  for (const value of [1.5, "1.5"])
    assert.ok(pulumiAccepts(project.config.smokeMaxLatencySeconds, value), JSON.stringify(value));
  for (const [key, d] of Object.entries(project.config)) {
    if (d.default !== undefined) assert.ok(pulumiAccepts(d, d.default), `${key}: its default`);
  }
});

for (const stack of ["dev", "prod"]) {
  test(`Pulumi.${stack}.yaml is valid and commits no secret value`, () => {
    const text = readFileSync(`Pulumi.${stack}.yaml`, "utf8");
    assert.doesNotMatch(text, /secure:/, "secrets are set with pulumi config set --secret, not committed");
    const values = (parse(text) as { config: Record<string, unknown> }).config;
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(values)) {
      if (key === "aws:region") raw.awsRegion = value;
      else if (key.startsWith(`${projectName}:`)) raw[key.replace(`${projectName}:`, "")] = value;
    }
    // With the other stack files' identities, as loadStackConfig reads them (a shared preview
    // identity between gated prod and ungated dev is refused).
    const config = parseStackConfig(
      raw,
      stack,
      { ghcrPullToken: false, slackWebhook: false },
      undefined,
      undefined,
      otherStackIdentities(".", stack),
    );
    // The checks loadStackConfig makes across the project's stack files.
    if (config.oidcProviderArn === undefined)
      assert.deepEqual(otherOidcProviderCreators(".", stack, values["aws:allowedAccountIds"] as string[]), []);
    if (config.manageRepoWorkflows) assert.deepEqual(otherRepoWorkflowOwners(".", config), []);
  });
}

test("prod differs from dev where environments differ", () => {
  const read = (s: string) =>
    (parse(readFileSync(`Pulumi.${s}.yaml`, "utf8")) as { config: Record<string, unknown> }).config;
  const dev = read("dev");
  const prod = read("prod");
  assert.ok(
    (prod[`${projectName}:replicas`] as number) > (dev[`${projectName}:replicas`] as number),
    "prod runs more replicas",
  );
  assert.ok((prod[`${projectName}:requiredReviewers`] as string[]).length > 0, "prod has reviewers");
  assert.equal(prod[`${projectName}:promoteFrom`], "dev", "prod promotes what dev tested");
  assert.equal(dev[`${projectName}:manageRepoWorkflows`], true);
  assert.notEqual(prod[`${projectName}:manageRepoWorkflows`], true, "one stack owns the repository-wide workflows");
});

test("docs/configuration.md documents every setting", () => {
  const doc = readFileSync("docs/configuration.md", "utf8");
  for (const { key } of configDeclarations()) assert.match(doc, new RegExp(`^\\| \`${key}\` \\|`, "m"), key);
});
