// The stack-file reader (config/stack-file.ts) against the real Pulumi CLI: for every stack file
// the tests render and for a file written to exercise bare keys, merge keys, every scalar form, a
// nested map and secrets set with `pulumi config set --secret`, `pulumi config --json` lists the
// same keys, the same strings and the same secrecy as the reader. Pulumi.yaml's defaults, which
// the CLI adds before the program starts and lists here, are accounted for by name. Only the CLI
// runs: no control plane, no plugin.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { parse } from "yaml";
import { repoRoot, toolsBin } from "../../test-control-plane/control-plane";
import { cliEnvironment } from "../../test-control-plane/project";
import { readProjectFile, readStackFile, securePlaceholder, type StackFile } from "../../config/stack-file";

const pulumi = path.join(toolsBin, "pulumi");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "stack-files-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** One entry of `pulumi config --json`. */
interface Listed {
  value?: string;
  objectValue?: unknown;
  secret: boolean;
}

/** A project folder of its own: the project's Pulumi.yaml, a file backend, a passphrase, a home. */
function projectFolder(name: string) {
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(repoRoot, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  const env: NodeJS.ProcessEnv = {
    ...cliEnvironment(path.join(dir, ".home"), "stack-files-test"),
    // A timestamp with an offset is named by the local zone: the reader names it as in UTC.
    TZ: "UTC",
  };
  const run = (args: string[], input?: string) =>
    spawnSync(pulumi, args, { cwd: dir, env, encoding: "utf8", ...(input !== undefined ? { input } : {}) });
  const ok = (args: string[], input?: string) => {
    const result = run(args, input);
    assert.equal(result.status, 0, `pulumi ${args.join(" ")}: ${result.stderr}${result.stdout}`);
    return result.stdout;
  };
  return { dir, run, ok };
}

/**
 * Creates the stack with `pulumi stack init` (which writes the stack file's encryption salt),
 * lets `prepare` run CLI commands on it (secrets), then writes `text` as the stack file with
 * that salt. Returns the folder and the file as the CLI then reads it.
 */
function stackWith(
  stack: string,
  text: (written: Record<string, unknown>) => string,
  prepare: (ok: (args: string[], input?: string) => string) => void = () => {},
) {
  const folder = projectFolder(stack);
  folder.ok(["stack", "init", stack]);
  prepare(folder.ok);
  const file = path.join(folder.dir, `Pulumi.${stack}.yaml`);
  const written = parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  assert.equal(typeof written.encryptionsalt, "string", "stack init wrote the passphrase's salt");
  const body = text(written);
  fs.writeFileSync(
    file,
    `${body}${body.endsWith("\n") ? "" : "\n"}encryptionsalt: ${String(written.encryptionsalt)}\n`,
  );
  return { ...folder, file };
}

/** `pulumi config --json` for the stack, checking the CLI left the file as it was. */
function listed(folder: ReturnType<typeof stackWith>, stack: string, showSecrets: boolean): Record<string, Listed> {
  const before = fs.readFileSync(folder.file, "utf8");
  const out = folder.ok(["config", "--json", "--stack", stack, ...(showSecrets ? ["--show-secrets"] : [])]);
  assert.equal(fs.readFileSync(folder.file, "utf8"), before, "pulumi config left the stack file as it was");
  return JSON.parse(out) as Record<string, Listed>;
}

/** Replaces the reader's placeholder for `key` by the plaintext the CLI decrypts it to. */
function withPlaintext(value: unknown, placeholder: string, plaintext: string): unknown {
  if (value === placeholder) return plaintext;
  if (Array.isArray(value)) return value.map((v) => withPlaintext(v, placeholder, plaintext));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withPlaintext(v, placeholder, plaintext)]));
  return value;
}

/**
 * The comparison: the same keys, and for each the same secrecy and, unless secret, the same
 * string and the same parsed list or map. A secret's value is compared where its plaintext is
 * known (`plaintexts`): the reader's placeholder stands where the CLI shows the plaintext.
 */
function assertSame(cli: Record<string, Listed>, reader: StackFile, plaintexts: Record<string, string> = {}) {
  assert.deepEqual(Object.keys(reader.config).sort(), Object.keys(cli).sort(), "the same keys");
  for (const [key, entry] of Object.entries(cli)) {
    const secret = reader.secretKeys.includes(key);
    assert.equal(secret, entry.secret, `${key}: secret ${entry.secret} for the CLI`);
    const plaintext = plaintexts[key];
    if (secret) {
      if (plaintext === undefined || entry.value === undefined) continue; // compared by secrecy only
      const expected = withPlaintext(reader.values[key], securePlaceholder(key), plaintext);
      assert.deepEqual(
        entry.objectValue ?? entry.value,
        expected,
        `${key}: the decrypted value where the reader has its placeholder`,
      );
      continue;
    }
    assert.equal(reader.config[key], entry.value, `${key}: the string the program receives`);
    assert.deepEqual(reader.values[key], entry.objectValue ?? entry.value, `${key}: as pulumi config --json shows it`);
  }
}

/** The keys the CLI adds from Pulumi.yaml: declared with a default, not set by the stack file. */
function assertDefaultsAccountedFor(cli: Record<string, Listed>, fileText: string) {
  const set = new Set(Object.keys(readStackFileText(fileText)));
  const added = Object.keys(cli)
    .filter((k) => !set.has(k))
    .sort();
  const declared = [...readProjectFile(path.join(repoRoot, "Pulumi.yaml")).defaults.keys()]
    .filter((k) => !set.has(k))
    .sort();
  assert.deepEqual(
    added,
    declared,
    "what the CLI adds to the file's keys is exactly Pulumi.yaml's defaults of keys the file leaves unset",
  );
}

/** The keys a stack file itself sets (no project defaults). */
function readStackFileText(text: string): Record<string, string> {
  const file = path.join(scratch, "keys-only", "Pulumi.keys.yaml");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return readStackFile(file, { project: { name: "canary-pipeline", defaults: new Map() } }).config;
}

test("the tier's Pulumi CLI is built", () => {
  assert.ok(fs.existsSync(pulumi), `${pulumi}: run tools/build.sh pulumi first`);
});

describe("every stack file the tests use, as pulumi config --json lists it", () => {
  const files = [
    "Pulumi.dev.yaml",
    "Pulumi.prod.yaml",
    ...fs
      .readdirSync(path.join(repoRoot, "test", "fixtures"))
      .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
      .map((f) => path.join("test", "fixtures", f)),
  ];
  for (const file of files) {
    test(file, () => {
      const stack = /Pulumi\.(.+)\.yaml$/.exec(file)![1];
      const text = fs.readFileSync(path.join(repoRoot, file), "utf8");
      const folder = stackWith(stack, () => text);
      const cli = listed(folder, stack, false);
      const reader = readStackFile(folder.file);
      assertSame(cli, reader);
      assertDefaultsAccountedFor(cli, text);
      // The reader gives the same for the file where the tests read it (the salt aside).
      assert.deepEqual(readStackFile(path.join(repoRoot, file)), reader);
    });
  }
});

// Bare keys, a merge key (a sequence of maps, and one inside a nested map), every scalar form
// yaml.v3 resolves differently from YAML 1.1 or JSON, quoted and block text, tags, a nested map
// with numbers, HTML characters, keys that are not text and a quoted "<<" (a merge key once the
// CLI writes the file back and reads it again), the old `ns:config:name` form; the secrets come
// from the CLI.
const crafted = (secure: { webhook: string; nested: string }) => `
x-common: &common
  canary-pipeline:canaryWeight: 25
  replicas: 7
  aws:region: eu-west-2
x-more: &more
  replicas: 8
  healthPath: /ready
x-inner: &inner
  own: 0
  merged: yes
config:
  <<: [*common, *more]
  replicas: 5
  appName: orders-api
  slackWebhook:
    secure: ${secure.webhook}
  nested:
    token:
      secure: ${secure.nested}
    other: [1, "two"]
  canary-pipeline:int: 42
  canary-pipeline:negative: -17
  canary-pipeline:plus: +5
  canary-pipeline:octal: 010
  canary-pipeline:leadingZero: 08
  canary-pipeline:octal12: 0o17
  canary-pipeline:hex: 0x1F
  canary-pipeline:binary: 0b101
  canary-pipeline:underscore: 1_000
  canary-pipeline:big: 12345678901234567890
  canary-pipeline:huge: 123456789012345678901234
  canary-pipeline:float: 1.5
  canary-pipeline:floatOne: 1.0
  canary-pipeline:exp: 1e3
  canary-pipeline:million: 1e6
  canary-pipeline:bigExp: 1e21
  canary-pipeline:small: 1.5e-7
  canary-pipeline:dot: .5
  canary-pipeline:negZero: -0.0
  canary-pipeline:overflow: 1e400
  canary-pipeline:true: true
  canary-pipeline:True: True
  canary-pipeline:yes: yes
  canary-pipeline:on: on
  canary-pipeline:n: n
  canary-pipeline:null: null
  canary-pipeline:tilde: ~
  canary-pipeline:empty:
  canary-pipeline:quoted: "5"
  canary-pipeline:single: 'true'
  canary-pipeline:emptyString: ""
  canary-pipeline:date: 2024-01-02
  canary-pipeline:timestamp: 2001-12-14t21:59:43.10-05:00
  canary-pipeline:utc: 2001-12-14T21:59:43+00:00
  canary-pipeline:spaced: 2001-12-14 21:59:43.10
  canary-pipeline:badDate: 2023-02-30
  canary-pipeline:literal: |
    two
    lines
  canary-pipeline:folded: >
    folded
    text
  canary-pipeline:html: "<a & b>"
  canary-pipeline:str: !!str 5
  canary-pipeline:tagged: !!float 5
  canary-pipeline:binaryText: !!binary aGk=
  canary-pipeline:custom: !custom text
  canary-pipeline:object:
    b: [1, 1.0, 1.5, 1e3, 1e21, 12345678901234567890, "2", true, null, ~, yes, 2024-01-02, "<&>", -0.0]
    a: {z: 1, y: [], x: {}}
    é: 1
    Z: 2
    nested:
      <<: *inner
      own: 1
    quotedMerge: {"<<": {a: 1, c: 4}, a: 2}
    keys: {5: a, true: b, 1.5: c, ~: d, 1e6: e, 1.5e-7: f, 2024-01-02: g, 0x10: h}
  canary-pipeline:list: [a, 1]
  aws:config:profile: old-form
`;

test("a stack file with bare keys, merge keys, every scalar form, a nested map and secrets set by the CLI", () => {
  const plaintexts = { webhook: "https://hooks.slack.com/services/T0/B0/<&>x", nested: "nested-secret" };
  let text = "";
  const folder = stackWith(
    "crafted",
    (written) => {
      const config = written.config as Record<string, { secure?: string; token?: { secure: string } }>;
      const webhook = config["canary-pipeline:slackWebhook"]?.secure;
      const nested = config["canary-pipeline:nested"]?.token?.secure;
      assert.ok(webhook && nested, "pulumi config set --secret wrote both ciphertexts");
      text = crafted({ webhook, nested });
      return text;
    },
    (ok) => {
      ok(["config", "set", "--secret", "slackWebhook"], plaintexts.webhook);
      ok(["config", "set", "--secret", "--path", "nested.token"], plaintexts.nested);
    },
  );
  const reader = readStackFile(folder.file);
  // The merge keys and bare keys as the CLI applies them: the map's own key wins, then the first map.
  assert.equal(reader.config["canary-pipeline:replicas"], "5");
  assert.equal(reader.config["canary-pipeline:healthPath"], "/ready");
  assert.equal(reader.config["aws:region"], "eu-west-2");
  assert.deepEqual(reader.secretKeys, ["canary-pipeline:nested", "canary-pipeline:slackWebhook"]);
  const hidden = listed(folder, "crafted", false);
  assertSame(hidden, reader);
  assert.equal(
    hidden["canary-pipeline:slackWebhook"]?.value,
    undefined,
    "without --show-secrets the CLI shows no secret",
  );
  const shown = listed(folder, "crafted", true);
  assertSame(shown, reader, {
    "canary-pipeline:slackWebhook": plaintexts.webhook,
    "canary-pipeline:nested": plaintexts.nested,
  });
  assert.equal(shown["canary-pipeline:slackWebhook"]?.value, plaintexts.webhook);
  assertDefaultsAccountedFor(shown, text);
});

test("what the reader refuses, the CLI refuses", () => {
  for (const [name, body] of [
    ["infinity", "config:\n  canary-pipeline:a: .inf\n"],
    ["duplicate", "config:\n  canary-pipeline:a: 1\n  canary-pipeline:a: 2\n"],
    ["numberkey", "config:\n  5: x\n"],
    ["quotedmerge", 'config:\n  canary-pipeline:a: {"<<": 1}\n'],
    ["twicekey", "config:\n  canary-pipeline:a: {1: x, 1.0: y}\n"],
    ["badkey", "config:\n  a:b:c: 1\n"],
  ] as const) {
    const folder = stackWith(name, () => "");
    fs.writeFileSync(folder.file, body);
    const result = folder.run(["config", "--json", "--stack", name]);
    assert.notEqual(result.status, 0, `${name}: the CLI refuses it (${result.stdout})`);
    assert.throws(
      () => readStackFile(folder.file),
      new RegExp(`Pulumi\\.${name}\\.yaml: `),
      `${name}: the reader refuses it`,
    );
  }
});
