// Bad input through the whole program: each refused configuration, given as a stack file would
// give it, stops the program with its line, no stack trace, and nothing registered but the stack itself.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../config/load";
import { projectName } from "../../config/schema";
import type { RegisteredResource } from "../../testing/mock-engine";
import { renderStack } from "../../synth/render";
import { badConfigurations, badServiceConfigurations, validRaw } from "../fixtures/bad-configurations";

/** The settings as the CLI passes them: strings, arrays as JSON, aws:region in its namespace. */
function stackSettings(raw: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw).map(([key, value]) => [
      key === "awsRegion" ? "aws:region" : `${projectName}:${key}`,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
}

test("the catalogue holds at least 30 refused configurations", () => {
  assert.ok(badConfigurations.length >= 30, String(badConfigurations.length));
});

test("the valid base configuration renders", async () => {
  const { resources } = await renderStack({
    stack: "dev",
    settings: { config: stackSettings(validRaw), secretKeys: [] },
  });
  assert.ok(resources.length > 10);
});

test('numbers as a stack file\'s JSON list gives them: nodeVersions [22, 24] renders the test matrix "22", "24"', async () => {
  const { files } = await renderStack({
    stack: "dev",
    settings: { config: stackSettings({ ...validRaw, nodeVersions: [22, 24] }), secretKeys: [] },
  });
  assert.match(files.get("repo/.github/workflows/deploy-dev.yml") ?? "", /matrix:\n\s+node:\n\s+- "22"\n\s+- "24"\n/);
});

for (const [name, overrides, removed, expected] of [...badConfigurations, ...badServiceConfigurations]) {
  test(`refused before any resource: ${name}`, async () => {
    const raw: Record<string, unknown> = { ...validRaw, ...overrides };
    for (const key of removed) delete raw[key];
    const registrations: RegisteredResource[] = [];
    const error = await renderStack({
      stack: "dev",
      settings: { config: stackSettings(raw), secretKeys: [] },
      registrations,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.ok(error.problems.includes(expected), `expected\n  ${expected}\namong\n  ${error.problems.join("\n  ")}`);
    assert.doesNotMatch(error.message, /\n\s+at /);
    assert.deepEqual(
      registrations.map((r) => r.type),
      ["pulumi:pulumi:Stack"],
      "nothing but the stack itself is registered",
    );
  });
}

test("a secret setting given in plain text is refused with the command that sets it as a secret, and its value is not printed", async () => {
  const registrations: RegisteredResource[] = [];
  const config = { ...stackSettings(validRaw), [`${projectName}:ghcrPullToken`]: "ghp_plaintexttoken123" };
  const error = await renderStack({ stack: "dev", settings: { config, secretKeys: [] }, registrations }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
  assert.deepEqual(error.problems, [
    "canary-pipeline:ghcrPullToken: is a secret but is set in plain text in the stack file: remove it there and run `pulumi config set --secret ghcrPullToken <value>`",
  ]);
  assert.doesNotMatch(error.message, /ghp_plaintext/);
  assert.deepEqual(
    registrations.map((r) => r.type),
    ["pulumi:pulumi:Stack"],
  );
  // The same value as a secret renders.
  await renderStack({ stack: "dev", settings: { config, secretKeys: [`${projectName}:ghcrPullToken`] } });
});

/** The problems of a stack file's settings, as the program run on them reports them. */
async function problemsOf(overrides: Record<string, unknown>): Promise<string[]> {
  const error = await renderStack({
    stack: "dev",
    settings: { config: stackSettings({ ...validRaw, ...overrides }), secretKeys: [] },
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
  return error.problems;
}

test("a bad value gets its own line only, no line computed from it", async () => {
  assert.deepEqual(await problemsOf({ canaryWeight: 100 }), [
    "canary-pipeline:canaryWeight: 100 must be a percentage from 1 to 50",
  ]);
  assert.deepEqual(await problemsOf({ replicas: 0, canaryWeight: 33 }), [
    "canary-pipeline:replicas: 0 must be a whole number from 1 to 100",
  ]);
  assert.deepEqual(
    await problemsOf({
      canaryBakeSeconds: -1,
      canaryAnalysis: {
        prometheusUrl: "http://prometheus:9090",
        metrics: [{ name: "errors", query: "$track", max: 1 }],
      },
    }),
    ["canary-pipeline:canaryBakeSeconds: -1 must be a number of seconds from 0 to 3600"],
  );
  assert.deepEqual(await problemsOf({ awsRegion: "eu-wset-1", kubeconfigContext: "prod" }), [
    'aws:region: "eu-wset-1" must be an AWS region: did you mean eu-west-1?',
    "canary-pipeline:kubeconfigContext: applies to clusterAuth token only: eks mode builds its kubeconfig from eksClusterName and aws:region",
  ]);
});
