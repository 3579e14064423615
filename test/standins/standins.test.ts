// The real tier's stand-in aws and github plugins (test-control-plane/standins/), tested at the boundary the
// Pulumi engine uses: each launcher is started as the engine starts a plugin, prints its port, and
// is spoken to over gRPC with the engine's own messages (@pulumi/pulumi/proto).
import * as grpc from "@grpc/grpc-js";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as proto from "@pulumi/pulumi/proto/provider_pb";
import type { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct, type JavaScriptValue } from "google-protobuf/google/protobuf/struct_pb";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";

const bin = resolve(__dirname, "../../test-control-plane/standins/bin");
const sig = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";
const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const secret = (value: unknown) => ({ [sig]: secretSig, value });
type Props = Record<string, unknown>;

/** The version each SDK asks the engine for (its package.json's `pulumi.version`). */
function sdkVersion(pkg: string): string {
  const manifest = JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), "utf8")) as {
    pulumi: { version: string };
  };
  return manifest.pulumi.version;
}

interface Plugin {
  client: ResourceProviderClient;
  child: ChildProcess;
  output: () => string;
  log: () => Props[];
  /** The log file's text. */
  rawLog: () => string;
  stop: () => void;
}

/** Starts a launcher as the engine does (no arguments but the engine's address, here none) and connects to the port it prints. */
async function launch(launcher: string, env: Record<string, string>, cwd?: string): Promise<Plugin> {
  const dir = mkdtempSync(join(tmpdir(), "standin-"));
  const logFile = join(dir, "calls.jsonl");
  const child = spawn(launcher, [], {
    cwd: cwd ?? dir,
    env: { ...process.env, ...env, CANARY_STANDIN_LOG: logFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const port = await new Promise<string>((resolvePort, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split("\n");
      if (line.length > 1) resolvePort(line[0].trim());
    });
    child.on("exit", (code) => reject(new Error(`${launcher} exited ${code} before printing its port: ${stderr}`)));
  });
  assert.match(port, /^\d+$/, `the first line of stdout is the port: ${port}`);
  const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    client,
    child,
    output: () => stdout + stderr,
    log: () =>
      existsSync(logFile)
        ? readFileSync(logFile, "utf8")
            .trim()
            .split("\n")
            .map((line) => JSON.parse(line) as Props)
        : [],
    rawLog: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    stop: () => {
      client.close();
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const rpc = <T>(call: (callback: (error: grpc.ServiceError | null, response: T) => void) => unknown) =>
  new Promise<T>((resolveCall, reject) => {
    call((error, response) => (error ? reject(error) : resolveCall(response)));
  });
const struct = (props: Props) => Struct.fromJavaScript(props as Record<string, JavaScriptValue>);
const props = (value: Struct | undefined): Props => value?.toJavaScript() ?? {};

function calls(client: ResourceProviderClient) {
  return {
    version: () => rpc<PluginInfo>((cb) => client.getPluginInfo(new Empty(), cb)).then((r) => r.getVersion()),
    configure: () =>
      rpc<proto.ConfigureResponse>((cb) =>
        client.configure(new proto.ConfigureRequest().setAcceptsecrets(true).setAcceptresources(true), cb),
      ),
    check: (urn: string, olds: Props, news: Props) =>
      rpc<proto.CheckResponse>((cb) =>
        client.check(new proto.CheckRequest().setUrn(urn).setOlds(struct(olds)).setNews(struct(news)), cb),
      ).then((r) => ({ inputs: props(r.getInputs()), failures: r.getFailuresList().map((f) => f.getProperty()) })),
    diff: (id: string, urn: string, olds: Props, news: Props) =>
      rpc<proto.DiffResponse>((cb) =>
        client.diff(new proto.DiffRequest().setId(id).setUrn(urn).setOlds(struct(olds)).setNews(struct(news)), cb),
      ).then((r) => ({ changes: r.getChanges(), replaces: r.getReplacesList() })),
    create: (urn: string, inputs: Props) =>
      rpc<proto.CreateResponse>((cb) =>
        client.create(new proto.CreateRequest().setUrn(urn).setProperties(struct(inputs)), cb),
      ).then((r) => ({ id: r.getId(), outputs: props(r.getProperties()) })),
    read: (id: string, urn: string, state: Props) =>
      rpc<proto.ReadResponse>((cb) =>
        client.read(new proto.ReadRequest().setId(id).setUrn(urn).setProperties(struct(state)), cb),
      ).then((r) => ({ id: r.getId(), outputs: props(r.getProperties()) })),
    update: (id: string, urn: string, olds: Props, news: Props) =>
      rpc<proto.UpdateResponse>((cb) =>
        client.update(new proto.UpdateRequest().setId(id).setUrn(urn).setOlds(struct(olds)).setNews(struct(news)), cb),
      ).then((r) => props(r.getProperties())),
    delete: (id: string, urn: string, state: Props) =>
      rpc<Empty>((cb) =>
        client.delete(new proto.DeleteRequest().setId(id).setUrn(urn).setProperties(struct(state)), cb),
      ),
    invoke: (token: string, args: Props) =>
      rpc<proto.InvokeResponse>((cb) =>
        client.invoke(new proto.InvokeRequest().setTok(token).setArgs(struct(args)), cb),
      ).then((r) => props(r.getReturn())),
  };
}

const urn = (type: string, name: string) =>
  `urn:pulumi:dev::canary-pipeline::canary-pipeline:index:CanaryPipeline$${type}::${name}`;
const { DIFF_NONE, DIFF_SOME } = proto.DiffResponse.DiffChanges;

describe("the aws stand-in, through its launcher over gRPC", () => {
  let plugin: Plugin;
  let aws: ReturnType<typeof calls>;
  before(async () => {
    plugin = await launch(join(bin, "pulumi-resource-aws"), {
      CANARY_STANDIN_AWS_ACCOUNT_ID: "210987654321",
      CANARY_STANDIN_EKS_ENDPOINT: "https://127.0.0.1:6443",
      CANARY_STANDIN_EKS_CA: "Y2EtZGF0YQ==",
    });
    aws = calls(plugin.client);
  });
  after(() => plugin.stop());

  test("reports the plugin version @pulumi/aws asks for, and accepts secrets", async () => {
    assert.equal(await aws.version(), sdkVersion("@pulumi/aws"));
    // Without acceptSecrets the engine would send secrets in plain text: the log could not redact them.
    assert.equal((await aws.configure()).getAcceptsecrets(), true);
  });

  test("refuses a resource type and a function the program does not use", async () => {
    const bucket = urn("aws:s3/bucket:Bucket", "b");
    await assert.rejects(
      aws.check(bucket, {}, { bucket: "b" }),
      /the aws stand-in does not know the resource type aws:s3\/bucket:Bucket/,
    );
    await assert.rejects(aws.create(bucket, { bucket: "b" }), /does not know the resource type aws:s3\/bucket:Bucket/);
    await assert.rejects(
      aws.invoke("aws:index/getCallerIdentity:getCallerIdentity", {}),
      /the aws stand-in does not know the function aws:index\/getCallerIdentity:getCallerIdentity/,
    );
    assert.ok(
      plugin.log().some((entry) => entry.method === "invoke" && typeof entry.error === "string"),
      "a refusal is logged",
    );
  });

  test("a role: autonamed, created, read, diffed, updated and deleted", async () => {
    const role = urn("aws:iam/role:Role", "orders-api-deploy-role");
    const news = {
      assumeRolePolicy: '{"Version":"2012-10-17"}',
      path: "/ci/",
      maxSessionDuration: 3600,
      tags: { team: "payments" },
    };
    const checked = await aws.check(role, {}, news);
    assert.match(String(checked.inputs.name), /^orders-api-deploy-role-[0-9a-f]{7}$/);
    assert.deepEqual(checked.failures, []);
    assert.equal(
      (await aws.check(role, checked.inputs, news)).inputs.name,
      checked.inputs.name,
      "the name stays over later checks",
    );
    assert.deepEqual((await aws.check(role, {}, { path: "/" })).failures, ["assumeRolePolicy"]);

    const created = await aws.create(role, checked.inputs);
    const name = String(checked.inputs.name);
    assert.equal(created.id, name);
    assert.equal(created.outputs.arn, `arn:aws:iam::210987654321:role/ci/${name}`);
    assert.match(String(created.outputs.uniqueId), /^AROA[A-Z2-7]{17}$/);
    assert.deepEqual(created.outputs.tagsAll, { team: "payments" });

    assert.deepEqual(await aws.read(created.id, role, created.outputs), created);
    // A refresh's diff (the state against the inputs it was made from) finds nothing.
    assert.deepEqual(await aws.diff(created.id, role, created.outputs, checked.inputs), {
      changes: DIFF_NONE,
      replaces: [],
    });
    const newPolicy = { ...checked.inputs, assumeRolePolicy: '{"Version":"2012-10-17","Statement":[]}' };
    assert.deepEqual(await aws.diff(created.id, role, created.outputs, newPolicy), {
      changes: DIFF_SOME,
      replaces: [],
    });
    assert.deepEqual(
      await aws.diff(created.id, role, created.outputs, { ...checked.inputs, assumeRolePolicy: unknown }),
      { changes: DIFF_SOME, replaces: [] },
    );
    assert.deepEqual(await aws.diff(created.id, role, created.outputs, { ...checked.inputs, path: "/" }), {
      changes: DIFF_SOME,
      replaces: ["path"],
    });
    assert.deepEqual(await aws.diff(created.id, role, created.outputs, { ...checked.inputs, name: "other" }), {
      changes: DIFF_SOME,
      replaces: ["name"],
    });
    const untagged = { ...checked.inputs };
    delete untagged.tags;
    assert.deepEqual(
      await aws.diff(created.id, role, created.outputs, untagged),
      { changes: DIFF_SOME, replaces: [] },
      "a removed input is a change",
    );

    const updated = await aws.update(created.id, role, created.outputs, newPolicy);
    assert.equal(updated.assumeRolePolicy, newPolicy.assumeRolePolicy);
    assert.equal(updated.arn, created.outputs.arn);
    assert.equal(updated.uniqueId, created.outputs.uniqueId);
    await aws.delete(created.id, role, updated);

    const methods = plugin
      .log()
      .filter((entry) => entry.urn === role && entry.error === undefined)
      .map((entry) => entry.method);
    assert.deepEqual(methods, [
      "check",
      "check",
      "check",
      "create",
      "read",
      "diff",
      "diff",
      "diff",
      "diff",
      "diff",
      "diff",
      "update",
      "delete",
    ]);
  });

  test("the OIDC provider, the role policy and the access entry carry the ids and ARNs the program reads", async () => {
    const oidc = await aws.create(urn("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "oidc"), {
      url: "https://token.actions.githubusercontent.com",
      clientIdLists: ["sts.amazonaws.com"],
    });
    assert.equal(oidc.id, "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com");
    assert.equal(oidc.outputs.arn, oidc.id);
    const policyUrn = urn("aws:iam/rolePolicy:RolePolicy", "deploy-policy");
    const policy = await aws.check(policyUrn, {}, { role: "deploy-1234567", policy: "{}" });
    assert.equal((await aws.create(policyUrn, policy.inputs)).id, `deploy-1234567:${String(policy.inputs.name)}`);
    const entryUrn = urn("aws:eks/accessEntry:AccessEntry", "deploy-access");
    const entryInputs = {
      clusterName: "acme-dev",
      principalArn: "arn:aws:iam::210987654321:role/deploy-1234567",
      type: "STANDARD",
      kubernetesGroups: ["orders-api-deployers"],
      region: "eu-west-1",
    };
    const entry = await aws.create(entryUrn, entryInputs);
    assert.equal(entry.id, "acme-dev:arn:aws:iam::210987654321:role/deploy-1234567");
    assert.match(
      String(entry.outputs.accessEntryArn),
      /^arn:aws:eks:eu-west-1:210987654321:access-entry\/acme-dev\/role\/210987654321\/deploy-1234567\/[0-9a-f-]{36}$/,
    );
    assert.deepEqual(
      await aws.diff(entry.id, entryUrn, entry.outputs, { ...entryInputs, kubernetesGroups: ["other"] }),
      { changes: DIFF_SOME, replaces: [] },
    );
    assert.deepEqual(await aws.diff(entry.id, entryUrn, entry.outputs, { ...entryInputs, clusterName: "acme-prod" }), {
      changes: DIFF_SOME,
      replaces: ["clusterName"],
    });
  });

  test("getCluster answers the endpoint and CA of its environment", async () => {
    const cluster = await aws.invoke("aws:eks/getCluster:getCluster", { name: "acme-dev", region: "eu-west-1" });
    assert.equal(cluster.name, "acme-dev");
    assert.equal(cluster.endpoint, "https://127.0.0.1:6443");
    assert.deepEqual(cluster.certificateAuthorities, [{ data: "Y2EtZGF0YQ==" }]);
    assert.equal(cluster.arn, "arn:aws:eks:eu-west-1:210987654321:cluster/acme-dev");
  });
});

describe("the github stand-in, through a link to its launcher from another folder", () => {
  let plugin: Plugin;
  let github: ReturnType<typeof calls>;
  let linkDir: string;
  const secretValue = "kubeconfig-s3cr3t-0123456789";
  before(async () => {
    // As the tier may link it into a folder on PATH, and run it from the program's folder.
    linkDir = mkdtempSync(join(tmpdir(), "standin-bin-"));
    symlinkSync(join(bin, "pulumi-resource-github"), join(linkDir, "pulumi-resource-github"));
    plugin = await launch(join(linkDir, "pulumi-resource-github"), {}, tmpdir());
    github = calls(plugin.client);
  });
  after(() => {
    plugin.stop();
    rmSync(linkDir, { recursive: true, force: true });
  });

  test("reports the plugin version @pulumi/github asks for", async () => {
    assert.equal(await github.version(), sdkVersion("@pulumi/github"));
  });

  test("refuses a resource type and a function the program does not use", async () => {
    await assert.rejects(
      github.check(urn("github:index/repository:Repository", "r"), {}, { name: "r" }),
      /the github stand-in does not know the resource type github:index\/repository:Repository/,
    );
    await assert.rejects(
      github.invoke("github:index/getRepository:getRepository", { name: "r" }),
      /the github stand-in does not know the function github:index\/getRepository:getRepository/,
    );
  });

  test("an environment secret stays secret: in the outputs, and never in plain text in the log or the output", async () => {
    const secretUrn = urn("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret", "orders-api-kubeconfig");
    const inputs = {
      repository: "orders-api",
      environment: "dev",
      secretName: "KUBECONFIG",
      plaintextValue: secret(secretValue),
    };
    const checked = await github.check(secretUrn, {}, inputs);
    const created = await github.create(secretUrn, checked.inputs);
    assert.equal(created.id, "orders-api:dev:KUBECONFIG");
    assert.deepEqual(created.outputs.plaintextValue, secret(secretValue), "the output is a secret");
    assert.deepEqual(await github.diff(created.id, secretUrn, created.outputs, checked.inputs), {
      changes: DIFF_NONE,
      replaces: [],
    });
    const rotated = { ...checked.inputs, plaintextValue: secret("rotated-s3cr3t-9876543210") };
    assert.deepEqual(await github.diff(created.id, secretUrn, created.outputs, rotated), {
      changes: DIFF_SOME,
      replaces: [],
    });
    assert.deepEqual(
      await github.diff(created.id, secretUrn, created.outputs, { ...checked.inputs, environment: "prod" }),
      { changes: DIFF_SOME, replaces: ["environment"] },
    );
    const updated = await github.update(created.id, secretUrn, created.outputs, rotated);
    assert.deepEqual(updated.plaintextValue, secret("rotated-s3cr3t-9876543210"));
    await github.read(created.id, secretUrn, updated);
    await github.delete(created.id, secretUrn, updated);
    // A plain value arriving unmarked (as a program forgetting pulumi.secret would send it) is
    // made secret in the outputs all the same: the real schema marks it secret.
    const unmarked = await github.create(secretUrn, { ...inputs, plaintextValue: "unmarked-value" });
    assert.deepEqual(unmarked.outputs.plaintextValue, secret("unmarked-value"));

    const log = plugin.rawLog();
    assert.ok(log.includes('"[secret]"'));
    for (const plain of [secretValue, "rotated-s3cr3t-9876543210", "unmarked-value"]) {
      assert.ok(!log.includes(plain), "no secret in the log");
      assert.ok(!plugin.output().includes(plain), "no secret on stdout or stderr");
    }
    // An output computed from a secret input is secret too.
    const fileUrn = urn("github:index/repositoryFile:RepositoryFile", "secret-file");
    const secretFile = await github.create(fileUrn, {
      repository: "orders-api",
      file: "x",
      content: secret(secretValue),
    });
    assert.deepEqual(secretFile.outputs.sha, secret("11c83e98910e504d205072b571f5bfb5c05f2847"));
    assert.equal(secretFile.outputs.file, "x");

    const createEntry = plugin.log().find((entry) => entry.method === "create" && entry.urn === secretUrn)!;
    assert.deepEqual((createEntry.outputs as Props).plaintextValue, "[secret]");
    assert.equal((createEntry.outputs as Props).secretName, "KUBECONFIG", "the rest is logged as is");
  });

  test("an environment replaces on its name, updates its reviewers in place", async () => {
    const envUrn = urn("github:index/repositoryEnvironment:RepositoryEnvironment", "orders-api-environment");
    const inputs = {
      repository: "orders-api",
      environment: "prod",
      deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
    };
    const created = await github.create(envUrn, inputs);
    assert.equal(created.id, "orders-api:prod");
    assert.equal(created.outputs.environment, "prod");
    assert.deepEqual(await github.diff(created.id, envUrn, created.outputs, inputs), {
      changes: DIFF_NONE,
      replaces: [],
    });
    assert.deepEqual(
      await github.diff(created.id, envUrn, created.outputs, {
        ...inputs,
        reviewers: [{ users: [1234567], teams: [] }],
      }),
      { changes: DIFF_SOME, replaces: [] },
    );
    assert.deepEqual(await github.diff(created.id, envUrn, created.outputs, { ...inputs, environment: "production" }), {
      changes: DIFF_SOME,
      replaces: ["environment"],
    });
  });

  test("a workflow file carries its blob sha; getUser and getTeam answer numeric ids", async () => {
    const fileUrn = urn("github:index/repositoryFile:RepositoryFile", "orders-api-deploy-dev-workflow");
    const file = await github.create(fileUrn, {
      repository: "orders-api",
      branch: "main",
      file: ".github/workflows/deploy-dev.yml",
      content: "hello\n",
      commitMessage: "ci",
      overwriteOnCreate: true,
    });
    assert.equal(file.id, "orders-api/.github/workflows/deploy-dev.yml");
    assert.equal(file.outputs.sha, "ce013625030ba8dba906f756967f9e9ca394464a", "git hash-object of hello\\n");
    const user = await github.invoke("github:index/getUser:getUser", { username: "alice" });
    const team = await github.invoke("github:index/getTeam:getTeam", { slug: "platform" });
    assert.match(String(user.id), /^\d+$/);
    assert.match(String(team.id), /^\d+$/);
    assert.equal(user.login, "alice");
    assert.equal(team.slug, "platform");
    assert.equal(
      (await github.invoke("github:index/getUser:getUser", { username: "alice" })).id,
      user.id,
      "the same user, the same id",
    );
  });
});
