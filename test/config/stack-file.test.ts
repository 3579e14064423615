// The stack-file reader hands the program what the Pulumi CLI (v3.274.1) hands it: bare keys under
// the project's namespace, merge keys applied, every scalar as the CLI's string, lists and maps as
// Go's JSON, secure values as secret placeholders, and Pulumi.yaml's defaults for what the stack
// does not set. The real CLI is compared with it in test/cluster/stack-files.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parse } from "yaml";
import { otherOidcProviderCreators, otherRepoWorkflowOwners, previewStacksDeployingOtherwise } from "../../config/load";
import { projectName } from "../../config/schema";
import {
  parseProjectFile,
  parseStackFile,
  readProjectFile,
  readStackFile,
  securePlaceholder,
  StackFileError,
  type ProjectFile,
} from "../../config/stack-file";
import { renderStack } from "../../synth/render";

/** A project that declares nothing: the stack file's own values only. */
const bare: ProjectFile = { name: projectName, defaults: new Map() };
const read = (text: string, project = bare) => parseStackFile(text, project, "Pulumi.test.yaml");
const key = (name: string) => `${projectName}:${name}`;
const scratch = mkdtempSync(join(tmpdir(), "stack-file-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

test("a key without a namespace is the project's; another namespace's key stays its own; ns:config:name is ns:name", () => {
  const { config } = read(
    "config:\n  replicas: 5\n  canary-pipeline:appName: orders\n  aws:region: eu-west-1\n  aws:config:profile: ops\n",
  );
  assert.deepEqual(config, {
    [key("replicas")]: "5",
    [key("appName")]: "orders",
    "aws:region": "eu-west-1",
    "aws:profile": "ops",
  });
});

test("a bare and a qualified key naming one setting are refused: the CLI would keep one at random", () => {
  assert.throws(
    () => read("config:\n  replicas: 5\n  canary-pipeline:replicas: 6\n"),
    (e: unknown) =>
      e instanceof StackFileError &&
      /Pulumi\.test\.yaml: config: replicas and canary-pipeline:replicas both set canary-pipeline:replicas/.test(
        e.message,
      ),
  );
  assert.throws(() => read("config:\n  a:b:c: 1\n"), /could not parse a:b:c as a configuration key/);
});

test("merge keys: the map's own keys win, then each merged map in order, nested merges included", () => {
  const { config } = read(
    [
      "x-base: &base",
      "  replicas: 3",
      "  canaryWeight: 5",
      "  aws:region: eu-west-1",
      "x-more: &more",
      "  replicas: 4",
      "  healthPath: /ready",
      "  <<: {appName: from-nested, canaryWeight: 99}",
      "config:",
      "  <<: [*base, *more]",
      "  replicas: 9",
      "",
    ].join("\n"),
  );
  assert.deepEqual(config, {
    [key("replicas")]: "9",
    [key("canaryWeight")]: "5",
    [key("healthPath")]: "/ready",
    [key("appName")]: "from-nested",
    "aws:region": "eu-west-1",
  });
  const nested = read("x: &x {b: 2, c: 3}\nconfig:\n  canaryAnalysis:\n    <<: *x\n    c: 4\n").config[
    key("canaryAnalysis")
  ];
  assert.equal(nested, '{"b":2,"c":4}');
  assert.throws(
    () => read("x: &x [1]\nconfig:\n  <<: *x\n"),
    /map merge requires map or sequence of maps as the value/,
  );
  // A quoted "<<" is a key of the first decode, but the CLI writes the file back and reads it
  // again (LoadProjectStackBytes), and then it is a merge key.
  assert.equal(read('config:\n  o: {"<<": {a: 1, c: 4}, a: 2}\n').config[key("o")], '{"a":2,"c":4}');
  assert.throws(() => read('config:\n  o: {"<<": 1}\n'), /map merge requires map or sequence of maps as the value/);
});

// Each scalar as yaml.v3 resolves it and config.Value then writes it (config/stack-file.ts names the
// CLI's source of each rule); the real tier compares the same forms with the CLI.
const scalarCases: [yaml: string, text: string][] = [
  ["42", "42"],
  ["-17", "-17"],
  ["+5", "5"],
  ["010", "8"],
  ["08", "8"],
  ["0o17", "15"],
  ["0x1F", "31"],
  ["0b101", "5"],
  ["1_000", "1000"],
  ["12345678901234567890", "12345678901234567890"],
  ["123456789012345678901234", "1.2345678901234569e+23"],
  ["1.5", "1.5"],
  ["1.0", "1"],
  ["1e3", "1000"],
  ["1e6", "1000000"],
  ["1e21", "1e+21"],
  ["1.5e-7", "1.5e-7"],
  [".5", "0.5"],
  ["-0.0", "0"],
  ["1e400", "1e400"],
  ["true", "true"],
  ["True", "true"],
  ["FALSE", "false"],
  ["yes", "yes"],
  ["on", "on"],
  ["n", "n"],
  ["null", ""],
  ["~", ""],
  ["", ""],
  ['"5"', "5"],
  ["'true'", "true"],
  ['""', ""],
  ['"<a & b>"', "<a & b>"],
  ["2024-01-02", "2024-01-02 00:00:00 +0000 UTC"],
  ["2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.1 -0500 -0500"],
  ["2001-12-14T21:59:43+00:00", "2001-12-14 21:59:43 +0000 UTC"],
  ["2001-12-14 21:59:43.10", "2001-12-14 21:59:43.1 +0000 UTC"],
  ["2023-02-30", "2023-02-30"],
  ["!!str 5", "5"],
  ["!!float 5", "5"],
  ["!!binary aGk=", "hi"],
  ["! 5", "5"],
  ["!custom text", "text"],
  ["|\n    two\n    lines", "two\nlines\n"],
  [">\n    folded\n    text", "folded text\n"],
  ["plain\n    folded", "plain folded"],
];

test("every scalar is the string the CLI hands the program", () => {
  const text = `config:\n${scalarCases.map(([yaml], i) => `  v${i}: ${yaml}`).join("\n")}\n`;
  const { config, secretKeys } = read(text);
  for (const [i, [yaml, expected]] of scalarCases.entries()) assert.equal(config[key(`v${i}`)], expected, yaml);
  assert.deepEqual(secretKeys, []);
});

test("what the CLI refuses is refused, naming the file", () => {
  for (const [yaml, message] of [
    ["config:\n  a: .inf\n", /json: unsupported value: \+Inf/],
    ["config:\n  a: [.nan]\n", /json: unsupported value: NaN/],
    ["config:\n  a: 1\n  a: 2\n", /Map keys must be unique/],
    ["config:\n  5: x\n", /could not parse 5 as a configuration key/],
    ["5: x\n", /expected only string keys, got the number '5'/],
    ["config:\n  a: {1: x, 1.0: y}\n", /mapping key "1" already defined/],
    ["config:\n  a: !!int x\n", /cannot decode !!str `x` as a !!int/],
    ["config: [a]\n", /config: expected a map of keys to values, not a list/],
    ["- a\n", /expected the stack file to be a map, not a list/],
    ["environment:\n  - acme/dev\n", /ESC environment/],
  ] as const) {
    assert.throws(
      () => read(yaml),
      (e: unknown) =>
        e instanceof StackFileError && e.message.startsWith("Pulumi.test.yaml: ") && message.test(e.message),
      yaml,
    );
  }
});

test("lists and maps are Go's JSON: keys sorted, <, > and & escaped, numbers as the CLI reads them back", () => {
  const { config, values } = read(
    [
      "config:",
      "  object:",
      '    b: [1, 1.0, 1.5, 1e3, 1e21, 12345678901234567890, "2", true, null, ~, yes, 2024-01-02, "<&>", -0.0]',
      "    a: {z: 1, y: [], x: {}}",
      "    é: 1",
      "    Z: 2",
      "  list: [a, 1]",
      "",
    ].join("\n"),
  );
  assert.equal(
    config[key("object")],
    '{"Z":2,"a":{"x":{},"y":[],"z":1},"b":[1,1,1.5,1000,1e+21,12345678901234567000,"2",true,null,null,"yes","2024-01-02 00:00:00 +0000 UTC","\\u003c\\u0026\\u003e",0],"é":1}',
  );
  assert.equal(config[key("list")], '["a",1]');
  // Keys that are not text, as config.Value names them (fmt's %v of the value read back).
  assert.equal(
    read("config:\n  o: {5: a, true: b, 1.5: c, ~: d, 1e6: e, 1.5e-7: f, 2024-01-02: g, 0x10: h}\n").config[key("o")],
    '{"1.5":"c","1.5e-07":"f","16":"h","1e+06":"e","2024-01-02 00:00:00 +0000 UTC":"g","5":"a","\\u003cnil\\u003e":"d","true":"b"}',
  );
  // `pulumi config --json` shows a list or map parsed (its objectValue), anything else as its string.
  assert.deepEqual(values[key("list")], ["a", 1]);
});

test("secure values are secret placeholders, also inside a map; a plain value under a secret's name is not secret", () => {
  const { config, secretKeys, values } = read(
    [
      "config:",
      "  slackWebhook:",
      "    secure: v1:AAAA",
      "  canaryAnalysis:",
      "    token: {secure: v1:BBBB}",
      "    other: 1",
      "  ghcrPullToken: abc",
      "  notSecure: {secure: v1:CCCC, other: 1}",
      "",
    ].join("\n"),
  );
  assert.equal(config[key("slackWebhook")], securePlaceholder(key("slackWebhook")));
  assert.equal(
    config[key("canaryAnalysis")],
    JSON.stringify({ other: 1, token: securePlaceholder(key("canaryAnalysis")) })
      .replaceAll("<", "\\u003c")
      .replaceAll(">", "\\u003e"),
  );
  assert.deepEqual(values[key("canaryAnalysis")], { other: 1, token: securePlaceholder(key("canaryAnalysis")) });
  assert.deepEqual(secretKeys, [key("canaryAnalysis"), key("slackWebhook")]);
  assert.equal(config[key("ghcrPullToken")], "abc");
  assert.equal(config[key("notSecure")], '{"other":1,"secure":"v1:CCCC"}');
});

test("an empty file, a file of comments, no config: and an empty config: hold no values", () => {
  for (const text of ["", "# nothing\n", "encryptionsalt: v1:abc\n", "config:\n", "config: {}\n", "\uFEFFconfig:\n"]) {
    assert.deepEqual(read(text), { config: {}, secretKeys: [], values: {} }, JSON.stringify(text));
  }
});

test("Pulumi.yaml's defaults are added for what the stack does not set, as the CLI adds them", () => {
  const project = readProjectFile("Pulumi.yaml");
  assert.equal(project.name, projectName);
  const declared = (parse(readFileSync("Pulumi.yaml", "utf8")) as { config: Record<string, { default?: unknown }> })
    .config;
  assert.deepEqual(
    [...project.defaults.keys()].sort(),
    Object.keys(declared)
      .filter((k) => declared[k].default !== undefined)
      .map(key)
      .sort(),
  );
  const { config, values } = read("config:\n  replicas: 4\n", project);
  assert.equal(config[key("replicas")], "4", "the stack's value wins");
  assert.equal(config[key("deployBranch")], "main");
  assert.equal(config[key("createNamespace")], "true");
  assert.equal(config[key("containerPort")], "3000");
  assert.equal(config[key("requiredReviewers")], "[]");
  assert.equal(config[key("nodeVersions")], '["22","24","26"]');
  assert.equal(config[key("smokeMaxLatencySeconds")], "1.5");
  assert.deepEqual(values[key("previewStacks")], ["dev", "prod"]);
  assert.equal(config[key("appName")], undefined, "declared without a default: nothing added");
  // The forms Pulumi.yaml allows: a shorthand value (a default of the project, a value of another
  // namespace), a float or a timestamp (JSON, as createConfigValue writes what is not text, a
  // whole number or a boolean).
  const other = parseProjectFile(
    "name: p\nconfig:\n  a: 5\n  aws:region: eu-west-1\n  b: {default: 1.5}\n  c: {default: 2024-01-02}\n  d: {type: string}\n  e: [x, 1]\n  f: {default: 5.0}\n",
  );
  assert.deepEqual(Object.fromEntries([...other.defaults].map(([k, v]) => [k, [v.text, v.object]])), {
    "p:a": ["5", false],
    "aws:region": ["eu-west-1", false],
    "p:b": ["1.5", true],
    "p:c": ["2024-01-02T00:00:00Z", true],
    "p:e": ['["x",1]', true],
    "p:f": ["5", false],
  });
  assert.throws(
    () => parseProjectFile("name: p\nconfig:\n  a: {default: 1, value: 2}\n"),
    /cannot have both a 'default' and 'value' attribute/,
  );
});

test("the stack file's Pulumi.yaml is the nearest one above it, as the CLI finds the project", () => {
  const project = join(scratch, "project");
  mkdirSync(join(project, "stacks"), { recursive: true });
  writeFileSync(join(project, "Pulumi.yaml"), "name: other\nconfig:\n  size: {default: 2}\n");
  writeFileSync(join(project, "stacks", "Pulumi.a.yaml"), "config:\n  replicas: 1\n");
  assert.deepEqual(readStackFile(join(project, "stacks", "Pulumi.a.yaml")).config, {
    "other:replicas": "1",
    "other:size": "2",
  });
  assert.deepEqual(readStackFile(join(project, "stacks", "Pulumi.a.yaml"), { project: bare }).config, {
    [key("replicas")]: "1",
  });
});

// The dev stack written with bare keys and a merge key, as a user may write it.
function devWithBareKeysAndMerge(): string {
  const shared = ["githubOwner: acme", "githubRepository: orders-api", "appName: orders-api"];
  let text = readFileSync("Pulumi.dev.yaml", "utf8").replaceAll("  canary-pipeline:", "  ");
  for (const line of shared) {
    assert.ok(text.includes(`  ${line}\n`), line);
    text = text.replace(`  ${line}\n`, "");
  }
  text = `x-shared: &shared\n${shared.map((l) => `  ${l}\n`).join("")}${text.replace("\nconfig:\n", "\nconfig:\n  <<: *shared\n")}`;
  assert.ok(!text.includes("canary-pipeline:") && text.includes("  <<: *shared\n"));
  return text;
}

test("synth renders a stack file with bare keys and a merge key as it renders the fully qualified file", async () => {
  const file = join(scratch, "Pulumi.dev.yaml");
  writeFileSync(file, devWithBareKeysAndMerge());
  const qualified = readStackFile("Pulumi.dev.yaml");
  const written = readStackFile(file, { project: "Pulumi.yaml" });
  assert.deepEqual(written, qualified);
  // One render at a time: the mock engine is the process's.
  const a = await renderStack({ stack: "dev", settings: qualified });
  const b = await renderStack({ stack: "dev", settings: written });
  assert.deepEqual([...b.files.keys()].sort(), [...a.files.keys()].sort());
  for (const [path, content] of a.files) assert.equal(b.files.get(path), content, path);
  assert.equal(JSON.stringify(b.resources), JSON.stringify(a.resources));
});

test("Pulumi.yaml's defaults, which the CLI adds, render as the schema's own defaults do", async () => {
  for (const file of ["Pulumi.dev.yaml", "Pulumi.prod.yaml", "test/fixtures/Pulumi.token.yaml"]) {
    const stack = /Pulumi\.(.+)\.yaml$/.exec(file)![1];
    const withDefaults = readStackFile(file);
    const withoutDefaults = readStackFile(file, { project: bare });
    assert.ok(Object.keys(withDefaults.config).length > Object.keys(withoutDefaults.config).length, file);
    const a = await renderStack({ stack, settings: withDefaults });
    const b = await renderStack({ stack, settings: withoutDefaults });
    for (const [path, content] of a.files) assert.equal(b.files.get(path), content, `${file}: ${path}`);
    assert.equal(a.files.size, b.files.size, file);
  }
});

test("a secret in plain text is not marked secret, so the program refuses it: npm run synth prints one line and exits 1, no trace", () => {
  const file = join(scratch, "Pulumi.plain.yaml");
  writeFileSync(
    file,
    readFileSync("Pulumi.dev.yaml", "utf8").replace("\nconfig:\n", "\nconfig:\n  ghcrPullToken: ghp_plaintext\n"),
  );
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", "synth/cli.ts", "--stack", "dev", "--config", file, "--out", join(scratch, "out")],
    { encoding: "utf8" },
  );
  assert.equal(run.status, 1, run.stderr);
  assert.equal(run.stdout, "");
  assert.equal(
    run.stderr,
    `${file}: Invalid configuration:\n  canary-pipeline:ghcrPullToken: is a secret but is set in plain text in the stack file: remove it there and run \`pulumi config set --secret ghcrPullToken <value>\`\n`,
  );
  // A file the CLI would refuse: one line naming it, exit 1.
  const broken = join(scratch, "Pulumi.broken.yaml");
  writeFileSync(broken, "config:\n  replicas: 5\n  canary-pipeline:replicas: 6\n");
  const refused = spawnSync(
    process.execPath,
    ["--import", "tsx", "synth/cli.ts", "--stack", "broken", "--config", broken, "--out", join(scratch, "out")],
    { encoding: "utf8" },
  );
  assert.equal(refused.status, 1, refused.stderr);
  assert.equal(
    refused.stderr,
    `${broken}: config: replicas and canary-pipeline:replicas both set canary-pipeline:replicas: the CLI keeps one of them at random (Go's map order); remove one\n`,
  );
});

test("the cross-stack checks read the other stack files with the same reader: bare keys, merge keys, Pulumi.yaml's defaults", () => {
  const project = join(scratch, "cross");
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, "Pulumi.yaml"), readFileSync("Pulumi.yaml", "utf8"));
  writeFileSync(join(project, "Pulumi.a.yaml"), "config:\n  githubOwner: acme\n  githubRepository: orders-api\n");
  // b claims the repository's workflows through a merged map, with bare keys, and names no account.
  writeFileSync(
    join(project, "Pulumi.b.yaml"),
    "x: &x\n  manageRepoWorkflows: true\n  clusterAuth: token\nconfig:\n  <<: *x\n  githubOwner: acme\n  githubRepository: orders-api\n",
  );
  // c sets oidcProviderArn with a bare key and names another account.
  writeFileSync(
    join(project, "Pulumi.c.yaml"),
    "config:\n  oidcProviderArn: arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com\n  aws:allowedAccountIds: [210987654321]\n",
  );
  assert.deepEqual(
    otherRepoWorkflowOwners(project, { stack: "a", githubOwner: "acme", githubRepository: "orders-api" }),
    ["b"],
  );
  assert.deepEqual(otherOidcProviderCreators(project, "a", ["123456789012"]), ["b"]);
  // c is eks by Pulumi.yaml's default, b token by its merged key.
  assert.deepEqual(
    previewStacksDeployingOtherwise(project, { stack: "a", previewStacks: ["b", "c"], clusterAuth: "eks" }),
    ["b"],
  );
  writeFileSync(join(project, "Pulumi.d.yaml"), "config:\n  a: 1\n  a: 2\n");
  assert.throws(
    () => otherRepoWorkflowOwners(project, { stack: "a", githubOwner: "acme", githubRepository: "orders-api" }),
    /Pulumi\.d\.yaml: invalid YAML file: Map keys must be unique.*: the cross-stack checks read every stack file of the project; fix it/,
  );
});
