// Which cluster the service's own provider deploys to: the one its settings name, never the
// ambient context. eks: the cluster's lookup and an `aws eks get-token` credential; token:
// clusterEndpoint and clusterCaData with the credential of one context of the machine's kubeconfig
// (the mock engine's stand-in, or a home directory of the test's own), read where the provider
// runs: the provider's inputs hold no credential. A caller's kubeconfig or provider keeps full control.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { CanaryPipeline, ClientSideApplyProvider, ConfigError, type ServiceSettings } from "../../../library";
import { localCredentialScript, localKubeconfigUser } from "../../../components/cluster/cluster-kubeconfig";
import { runProgram, secretMarker, type RegisteredResource } from "../../../testing/mock-engine";
import { projectName } from "../../../config/schema";
import { caData, renderCluster, stackConfig } from "../cluster-render";

interface Kubeconfig {
  clusters: { name: string; cluster: { server: string; "certificate-authority-data": string } }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  "current-context": string;
}

/** The kubeconfig input of the one provider the render declares, and whether it is secret. */
function providerKubeconfig(r: { resources: RegisteredResource[] }): { kubeconfig: Kubeconfig; secret: boolean } {
  const providers = r.resources.filter((x) => x.type === "pulumi:providers:kubernetes");
  assert.equal(providers.length, 1);
  const value = providers[0].inputs.kubeconfig as string | Record<string, string>;
  const secret = typeof value === "object" && secretMarker in value;
  return { kubeconfig: parse(secret ? value[secretMarker] : (value as string)) as Kubeconfig, secret };
}

const homes: string[] = [];
after(() => {
  for (const home of homes) fs.rmSync(home, { recursive: true, force: true });
});
/** A home directory whose `.kube/config` holds `files[0]`, plus the other files beside it. */
function home(...files: Record<string, unknown>[]): { dir: string; paths: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubeconfig-home-"));
  homes.push(dir);
  fs.mkdirSync(path.join(dir, ".kube"));
  const paths = files.map((_, i) => path.join(dir, ".kube", i === 0 ? "config" : `config-${i}`));
  files.forEach((f, i) => fs.writeFileSync(paths[i], stringify(f)));
  return { dir, paths };
}
const kubeconfigFile = (
  current: string | undefined,
  contexts: [string, string][],
  users: [string, Record<string, unknown>][],
) => ({
  apiVersion: "v1",
  kind: "Config",
  ...(current ? { "current-context": current } : {}),
  clusters: [{ name: "elsewhere", cluster: { server: "https://elsewhere.example:6443" } }],
  contexts: contexts.map(([name, user]) => ({ name, context: { cluster: "elsewhere", user } })),
  users: users.map(([name, user]) => ({ name, user })),
});

describe("clusterAuth eks: the kubeconfig comes from eksClusterName and the region", () => {
  test("the lookup's endpoint and CA, and an exec credential for that cluster and region", async () => {
    const r = await renderCluster(stackConfig("eks"));
    const { kubeconfig, secret } = providerKubeconfig(r);
    assert.equal(secret, false, "it holds no credential");
    assert.equal(kubeconfig.clusters.length, 1);
    // The mock engine's answer for aws:eks/getCluster:getCluster of acme-dev.
    assert.match(kubeconfig.clusters[0].cluster.server, /^https:\/\/\d+\.gr7\.eu-west-1\.eks\.amazonaws\.com$/);
    assert.equal(
      kubeconfig.clusters[0].cluster["certificate-authority-data"],
      Buffer.from("-----BEGIN CERTIFICATE-----\nacme-dev\n-----END CERTIFICATE-----\n").toString("base64"),
    );
    assert.deepEqual(kubeconfig.users, [
      {
        name: "aws",
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", "acme-dev", "--region", "eu-west-1", "--output", "json"],
            env: [{ name: "KUBERNETES_EXEC_INFO", value: '{"apiVersion":"client.authentication.k8s.io/v1beta1"}' }],
          },
        },
      },
    ]);
    assert.equal(kubeconfig["current-context"], kubeconfig.contexts[0].name);
  });

  test("the settings' cluster, whatever the machine's current context (kubeconfigContext is refused: it has no use)", async () => {
    const { dir } = home(kubeconfigFile("prod", [["prod", "admin"]], [["admin", { token: "prod-admin" }]]));
    const r = await renderCluster(stackConfig("eks"), { home: dir });
    assert.doesNotMatch(JSON.stringify(providerKubeconfig(r).kubeconfig), /elsewhere|prod-admin/);
    assert.throws(
      () => stackConfig("eks", { kubeconfigContext: "prod" }),
      /canary-pipeline:kubeconfigContext: applies to clusterAuth token only/,
    );
  });
});

describe("clusterAuth token: clusterEndpoint and clusterCaData, with the user of a local context", () => {
  const execUser = (args: string[]) => [
    {
      name: "local",
      user: {
        exec: {
          apiVersion: "client.authentication.k8s.io/v1beta1",
          command: "node",
          args: ["--eval", localCredentialScript, ...args],
        },
      },
    },
  ];

  test("the current context's credential, read where the provider runs; never its cluster; no credential in the inputs", async () => {
    const r = await renderCluster(stackConfig("token"));
    const { kubeconfig, secret } = providerKubeconfig(r);
    assert.equal(secret, false);
    assert.deepEqual(
      kubeconfig.clusters.map((c) => c.cluster),
      [{ server: "https://api.k8s.example.com:6443", "certificate-authority-data": caData }],
    );
    assert.deepEqual(kubeconfig.users, execUser([]));
    assert.doesNotMatch(JSON.stringify(kubeconfig), /stand-in/);
  });

  test("kubeconfigContext: that context's credential; the preview's kubeconfig names its context so", async () => {
    const { dir } = home(
      kubeconfigFile(
        "prod",
        [
          ["prod", "admin"],
          ["dev", "dev-admin"],
        ],
        [
          ["admin", { token: "prod-admin" }],
          ["dev-admin", { "client-certificate": "certs/dev.crt" }],
        ],
      ),
    );
    const r = await renderCluster(stackConfig("token", { kubeconfigContext: "dev" }), { home: dir, preview: true });
    const { kubeconfig } = providerKubeconfig(r);
    assert.equal(kubeconfig.clusters[0].cluster.server, "https://api.k8s.example.com:6443");
    assert.deepEqual(kubeconfig.users, execUser(["--", "dev"]));
    assert.doesNotMatch(JSON.stringify(kubeconfig), /prod-admin|dev\.crt|elsewhere/);
    assert.equal((parse(r.outputs.previewKubeconfig as string) as Kubeconfig)["current-context"], "dev");
  });

  test("a context that is not there stops the program before any resource registers, naming kubeconfigContext as the caller wrote it", async () => {
    const { dir } = home(kubeconfigFile("prod", [["prod", "admin"]], [["admin", { token: "prod-admin" }]]));
    const settings: ServiceSettings = {
      githubOwner: "acme",
      githubRepository: "orders-api",
      appName: "orders-api",
      initialImage: "ghcr.io/acme/orders-api:1.4.2",
      clusterAuth: "token",
      clusterEndpoint: "https://api.k8s.example.com:6443",
      clusterCaData: caData,
      kubeconfigContext: "dev",
    };
    const registrations: RegisteredResource[] = [];
    await assert.rejects(
      runProgram({
        project: projectName,
        stack: "dev",
        config: {},
        secretKeys: [],
        home: dir,
        registrations,
        program: () => {
          new CanaryPipeline("orders", { settings });
        },
      }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /^ {2}CanaryPipeline orders: settings\.kubeconfigContext: "dev" is not a context of .*\(its contexts: prod\)$/m.test(
          error.message,
        ),
    );
    assert.deepEqual(
      registrations.map((x) => x.type).filter((t) => t !== "pulumi:pulumi:Stack"),
      [],
    );
  });
});

describe("the machine's kubeconfig, read as kubectl reads it", () => {
  test("KUBECONFIG's files merge: the first to set a current context or name a context wins; missing files are skipped", () => {
    const { paths } = home(
      kubeconfigFile("one", [["one", "first"]], [["first", { token: "1" }]]),
      kubeconfigFile(
        "two",
        [
          ["one", "second"],
          ["two", "second"],
        ],
        [
          ["first", { token: "shadowed" }],
          ["second", { token: "2" }],
        ],
      ),
    );
    const env = { KUBECONFIG: ["/no/such/file", paths[0], paths[1]].join(path.delimiter) };
    assert.deepEqual(localKubeconfigUser(undefined, env), { context: "one", name: "first" });
    assert.deepEqual(localKubeconfigUser("two", env), { context: "two", name: "second" });
  });

  test("each way a context can be missing or wrong is a ConfigError naming kubeconfigContext", () => {
    const { dir, paths } = home(
      kubeconfigFile(
        undefined,
        [
          ["nouser", ""],
          ["ghost", "nobody"],
        ],
        [],
      ),
    );
    const problem = (context: string | undefined, env: NodeJS.ProcessEnv, at = dir) => {
      try {
        localKubeconfigUser(context, env, at);
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        return error.problems.join("\n");
      }
      assert.fail("no error");
    };
    assert.match(
      problem(undefined, {}, "/no/such/home"),
      /^canary-pipeline:kubeconfigContext: clusterAuth token deploys as the user of a context of this machine's kubeconfig, and there is none \(KUBECONFIG is unset and ~\/\.kube\/config does not exist\)/,
    );
    assert.match(
      problem(undefined, { KUBECONFIG: "/no/such/file" }),
      /there is none \(KUBECONFIG lists no file that exists\)/,
    );
    assert.match(problem(undefined, {}), /^canary-pipeline:kubeconfigContext: is unset and .* has no current-context/);
    assert.match(problem("prod", {}), /"prod" is not a context of .* \(its contexts: nouser, ghost\)/);
    assert.match(problem("nouser", {}), /context "nouser" of .* names no user/);
    assert.match(problem("ghost", {}), /context "ghost" names user "nobody", which .* does not define/);
    fs.writeFileSync(paths[0], "users: [");
    assert.match(problem("ghost", {}), /config is not a kubeconfig/);
  });
});

describe("a caller's kubeconfig or provider keeps full control", () => {
  test("a kubeconfig given is the provider's, as it is", async () => {
    const given = stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "mine", cluster: { server: "https://mine.example" } }],
      contexts: [{ name: "mine", context: { cluster: "mine", user: "me" } }],
      users: [{ name: "me", user: { token: "t" } }],
      "current-context": "mine",
    });
    const settings: ServiceSettings = {
      githubOwner: "acme",
      githubRepository: "orders-api",
      appName: "orders-api",
      initialImage: "ghcr.io/acme/orders-api:1.4.2",
      awsRegion: "eu-west-1",
      eksClusterName: "acme-dev",
    };
    const { resources } = await runProgram({
      project: projectName,
      stack: "dev",
      config: {},
      secretKeys: [],
      program: () => {
        new CanaryPipeline("orders", { settings, kubeconfig: given });
      },
    });
    assert.deepEqual(providerKubeconfig({ resources }).kubeconfig, parse(given));
  });

  test("a provider in the options: none of the component's own, and no local kubeconfig is read (token mode, no home)", async () => {
    const settings: ServiceSettings = {
      githubOwner: "acme",
      githubRepository: "orders-api",
      appName: "orders-api",
      initialImage: "ghcr.io/acme/orders-api:1.4.2",
      clusterAuth: "token",
      clusterEndpoint: "https://api.k8s.example.com:6443",
      clusterCaData: caData,
    };
    const { resources } = await runProgram({
      project: projectName,
      stack: "dev",
      config: {},
      secretKeys: [],
      home: "/no/such/home",
      program: () => {
        new CanaryPipeline(
          "orders",
          { settings },
          { providers: [new ClientSideApplyProvider("shared", { kubeconfig: "~/.kube/shared" })] },
        );
      },
    });
    const providers = resources.filter((x) => x.type === "pulumi:providers:kubernetes");
    assert.deepEqual(
      providers.map((p) => p.name),
      ["shared"],
    );
  });
});

describe("the token-mode exec plugin: the credential of the machine's context, as an ExecCredential", () => {
  /** Runs the plugin with a stand-in kubectl that prints `view` for `config view` and records its arguments. */
  function plugin(view: Record<string, unknown>, context?: string) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "exec-plugin-"));
    homes.push(dir);
    fs.writeFileSync(path.join(dir, "view.json"), JSON.stringify(view));
    fs.writeFileSync(path.join(dir, "kubectl"), `#!/bin/sh\necho "$@" > "${dir}/args"\ncat "${dir}/view.json"\n`, {
      mode: 0o755,
    });
    fs.writeFileSync(
      path.join(dir, "helper"),
      `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-'"$HELPER"'"}}'\n`,
      { mode: 0o755 },
    );
    fs.writeFileSync(path.join(dir, "token"), "from-file\n");
    const run = spawnSync(process.execPath, ["--eval", localCredentialScript, ...(context ? ["--", context] : [])], {
      encoding: "utf8",
      env: { PATH: `${dir}${path.delimiter}${process.env.PATH}` },
    });
    return {
      ...run,
      dir,
      args: fs.readFileSync(path.join(dir, "args"), "utf8").trim(),
      credential:
        run.status === 0
          ? (JSON.parse(run.stdout) as { apiVersion: string; kind: string; status: unknown })
          : undefined,
    };
  }
  const userView = (user: Record<string, unknown>) => ({ "current-context": "dev", users: [{ name: "u", user }] });

  test("asks kubectl for the one context, merged, its files inlined", () => {
    assert.equal(plugin(userView({ token: "t" })).args, "config view --raw --minify --flatten --output json");
    assert.equal(
      plugin(userView({ token: "t" }), "dev").args,
      "config view --raw --minify --flatten --output json --context dev",
    );
  });

  test("a token, a token file, a client certificate, or an exec plugin's status", () => {
    const pem = (s: string) => Buffer.from(s).toString("base64");
    assert.deepEqual(plugin(userView({ token: "t" })).credential, {
      apiVersion: "client.authentication.k8s.io/v1beta1",
      kind: "ExecCredential",
      status: { token: "t" },
    });
    const withFile = plugin(userView({}));
    assert.deepEqual(plugin(userView({ tokenFile: path.join(withFile.dir, "token") })).credential?.status, {
      token: "from-file",
    });
    assert.deepEqual(
      plugin(userView({ "client-certificate-data": pem("CERT"), "client-key-data": pem("KEY") })).credential?.status,
      { clientCertificateData: "CERT", clientKeyData: "KEY" },
    );
    const exec = plugin(userView({}));
    const nested = plugin(
      userView({ exec: { command: path.join(exec.dir, "helper"), env: [{ name: "HELPER", value: "helper" }] } }),
    );
    assert.deepEqual(nested.credential, {
      apiVersion: "client.authentication.k8s.io/v1beta1",
      kind: "ExecCredential",
      status: { token: "from-helper" },
    });
  });

  test("a user with nothing to pass on fails, naming the context", () => {
    const run = plugin(userView({ username: "basic" }));
    assert.equal(run.status, 1);
    assert.match(
      run.stderr,
      /the user of kubeconfig context dev has no token, token file, client certificate or exec plugin/,
    );
  });
});
