// Pulumi.yaml's `config:` block and the stack files agree with the schema: every key declared
// once with the schema's type, description and default, and each stack file valid.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parse } from "yaml";
import { configDeclarations, parseStackConfig } from "../../config/load";
import { projectName } from "../../config/schema";

interface Declared { type: string; description: string; default?: unknown; secret?: boolean; items?: { type: string } }
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

test("Pulumi.yaml declares exactly the schema's settings, with their types, descriptions and defaults", () => {
  const expected = Object.fromEntries(configDeclarations().map(({ key, ...d }) => [key, {
    type: d.type,
    description: d.description,
    ...(d.type === "array" ? { items: { type: "string" } } : {}),
    ...(d.default !== undefined ? { default: d.default } : {}),
    ...(d.secret ? { secret: true } : {}),
  }]));
  assert.deepEqual(project.config, expected);
});

test("only the types Pulumi.yaml allows are declared", () => {
  for (const [key, d] of Object.entries(project.config)) {
    assert.ok(["string", "integer", "boolean", "array"].includes(d.type), `${key}: ${d.type}`);
    assert.ok(d.description.length > 0, `${key} has a description`);
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
      else raw[key.replace(`${projectName}:`, "")] = key.endsWith("smokeMaxLatencySeconds") ? String(value) : value;
    }
    assert.doesNotThrow(() => parseStackConfig(raw, stack, { ghcrPullToken: false, slackWebhook: false, pulumiAccessToken: false }));
  });
}

test("prod differs from dev where environments differ", () => {
  const read = (s: string) => (parse(readFileSync(`Pulumi.${s}.yaml`, "utf8")) as { config: Record<string, unknown> }).config;
  const dev = read("dev");
  const prod = read("prod");
  assert.ok((prod[`${projectName}:replicas`] as number) > (dev[`${projectName}:replicas`] as number), "prod runs more replicas");
  assert.ok((prod[`${projectName}:requiredReviewers`] as string[]).length > 0, "prod has reviewers");
  assert.equal(prod[`${projectName}:promoteFrom`], "dev", "prod promotes what dev tested");
  assert.equal(dev[`${projectName}:manageRepoWorkflows`], true);
  assert.notEqual(prod[`${projectName}:manageRepoWorkflows`], true, "one stack owns the repository-wide workflows");
});

test("docs/configuration.md documents every setting", () => {
  const doc = readFileSync("docs/configuration.md", "utf8");
  for (const { key } of configDeclarations()) assert.match(doc, new RegExp(`^\\| \`${key}\` \\|`, "m"), key);
});
