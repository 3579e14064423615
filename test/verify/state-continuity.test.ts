// State continuity: what `pulumi up` would keep, delete and create when a new program meets a
// deployed stack. The old state is the URNs of an earlier render; the new render's aliases are the
// ones the real SDK sent to the mock engine.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { CanaryPipeline } from "../../components/canary-pipeline";
import { GithubOidcProvider } from "../../components/aws/github-oidc-provider";
import { loadStackConfig, secretSetting } from "../../config/load";
import { secretSettings, type SecretKey } from "../../config/schema";
import { runProgram } from "../../testing/mock-engine";
import { renderStack } from "../../synth/render";
import { readStackFile } from "../../config/stack-file";
import { continuity } from "../../verify/state-continuity";

const urnsOf = async (program: () => unknown) =>
  (await runProgram({ project: "p", stack: "s", config: {}, secretKeys: [], program })).resources;

class Bucket extends pulumi.CustomResource {
  constructor(name: string, opts?: pulumi.CustomResourceOptions) {
    super("test:index:Bucket", name, {}, opts);
  }
}
class App extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions, withBucket = true) {
    super("test:index:App", name, {}, opts);
    if (withBucket) new Bucket(`${name}-bucket`, { parent: this });
    new Bucket("shared-log", { parent: this });
    this.registerOutputs({});
  }
}

const short = (urns: Iterable<string>) => [...urns].map((u) => u.split("::").pop()).sort();

test("a renamed component keeps itself and its children only with an alias", async () => {
  const before = (await urnsOf(() => new App("app"))).map((r) => r.urn);

  const aliased = continuity(before, await urnsOf(() => new App("svc", { aliases: [{ name: "app" }] })));
  assert.deepEqual(
    { deleted: aliased.deleted, created: aliased.created, claimedTwice: aliased.claimedTwice },
    { deleted: [], created: [], claimedTwice: [] },
  );
  // The child named after its parent inherits the alias, renamed with it; a child's URN holds its
  // parent's type, not its name, so `shared-log` keeps its URN.
  assert.deepEqual(short(aliased.aliased.values()), ["app", "app-bucket"]);

  const bare = continuity(before, await urnsOf(() => new App("svc")));
  assert.deepEqual(
    { deleted: short(bare.deleted), created: short(bare.created) },
    { deleted: ["app", "app-bucket"], created: ["svc", "svc-bucket"] },
  );
});

test("a child renamed inside a renamed parent: its alias names the parent as it is now, found as it was", async () => {
  class Site extends pulumi.ComponentResource {
    constructor(name: string, child: string, opts?: pulumi.ComponentResourceOptions, childAliases?: pulumi.Alias[]) {
      super("test:index:Site", name, {}, opts);
      new Bucket(child, { parent: this, ...(childAliases ? { aliases: childAliases } : {}) });
      this.registerOutputs({});
    }
  }
  const before = (await urnsOf(() => new Site("app", "logs"))).map((r) => r.urn);
  const c = continuity(
    before,
    await urnsOf(() => {
      const site = new Site("svc", "access-logs", { aliases: [{ name: "app" }] }, [{ name: "logs" }]);
      return site.urn;
    }),
  );
  assert.deepEqual({ deleted: c.deleted, created: c.created }, { deleted: [], created: [] });
  assert.deepEqual(short(c.aliased.values()), ["app", "logs"]);
});

test("a resource moved out of its component keeps its identity with a parent alias", async () => {
  const before = (await urnsOf(() => new App("app"))).map((r) => r.urn);
  const wasIn = { parent: pulumi.createUrn("app", "test:index:App") };
  const moved = continuity(
    before,
    await urnsOf(() => {
      new Bucket("app-bucket", { aliases: [wasIn] });
      new App("app", {}, false);
    }),
  );
  assert.deepEqual({ deleted: moved.deleted, created: moved.created }, { deleted: [], created: [] });
  assert.deepEqual(short(moved.aliased.values()), ["app-bucket"]);

  const bare = continuity(
    before,
    await urnsOf(() => {
      new Bucket("app-bucket");
      new App("app", {}, false);
    }),
  );
  assert.deepEqual(
    { deleted: short(bare.deleted), created: short(bare.created) },
    { deleted: ["app-bucket"], created: ["app-bucket"] },
  );

  // Declared twice, inside and out, both claim the old URN: the engine refuses that, and so does the check.
  const twice = continuity(
    before,
    await urnsOf(() => {
      new Bucket("app-bucket", { aliases: [wasIn] });
      new App("app");
    }),
  );
  assert.deepEqual(short(twice.claimedTwice), ["app-bucket"]);
});

// docs/library.md, "Stable URNs": the dev stack moves from the provider its CanaryPipeline creates
// to a shared one declared at the top of the program.
function devProgram(alias: boolean): () => unknown {
  return () => {
    const config = loadStackConfig();
    const secrets = Object.fromEntries(
      (Object.keys(secretSettings) as SecretKey[]).flatMap((k) => (config.secrets[k] ? [[k, secretSetting(k)!]] : [])),
    );
    const oidc = new GithubOidcProvider(
      "github-oidc",
      {},
      alias
        ? {
            aliases: [
              {
                name: `${config.appName}-github-oidc`,
                parent: pulumi.createUrn(config.appName, "canary-pipeline:index:CanaryPipeline"),
              },
            ],
          }
        : {},
    );
    return new CanaryPipeline(config.appName, { config, secrets, oidcProviderArn: oidc.arn }).urn;
  };
}

test("the documented move of the dev stack's OIDC provider replaces nothing with its alias, and the provider without it", async () => {
  // The deployed state: the dev stack's pinned URNs (test/components/dev-stack-urns.test.ts holds them to the render).
  const deployed = JSON.parse(
    readFileSync(join(__dirname, "..", "components", "dev-stack-urns.json"), "utf8"),
  ) as string[];
  const render = async (alias: boolean) =>
    (await renderStack({ stack: "dev", settings: readStackFile("Pulumi.dev.yaml"), program: devProgram(alias) }))
      .resources;

  const withAlias = continuity(deployed, await render(true));
  assert.deepEqual(
    { deleted: withAlias.deleted, created: withAlias.created, claimedTwice: withAlias.claimedTwice },
    { deleted: [], created: [], claimedTwice: [] },
  );
  assert.deepEqual([...withAlias.aliased].map(([now, was]) => [now.split("::").pop(), was.split("::").pop()]).sort(), [
    ["github-oidc", "orders-api-github-oidc"],
    ["github-oidc-provider", "orders-api-github-oidc-provider"],
  ]);

  const withoutAlias = continuity(deployed, await render(false));
  assert.deepEqual(short(withoutAlias.deleted), ["orders-api-github-oidc", "orders-api-github-oidc-provider"]);
  assert.deepEqual(short(withoutAlias.created), ["github-oidc", "github-oidc-provider"]);
});
