// Each preview identity reads exactly its own stack: a Pulumi identity (a team, an organization
// token, a KMS key) shared between a gated stack and an ungated one is refused before anything
// registers, naming both stacks and the fix; the stack that commits infra-preview.yml previews
// each stack with that stack's own identity, read from its stack file.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ConfigError, otherStackIdentities, parseStackConfig } from "../../config/load";
import { argsSettingNames } from "../../config/errors";
import type { PreviewStackIdentity } from "../../config/schema";
import { validRaw } from "../fixtures/bad-configurations";

const noSecrets = { ghcrPullToken: false, slackWebhook: false };
const cloud = { pulumiBackendUrl: "https://api.pulumi.com", pulumiOrganization: "acme" } as const;
const key = (n: string) => `arn:aws:kms:eu-west-1:123456789012:key/${n}`;
const s3 = { pulumiBackendUrl: "s3://acme-state/orders?region=eu-west-1" } as const;
const dev = { ...validRaw, ...cloud, pulumiTeam: "dev-previews", manageRepoWorkflows: true };
const prodIdentity: PreviewStackIdentity = { ...cloud, pulumiTeam: "prod-previews", gated: true };

function problems(raw: Record<string, unknown>, stack: string, others: Record<string, PreviewStackIdentity>): string[] {
  try {
    parseStackConfig(raw, stack, noSecrets, undefined, undefined, others);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  return [];
}

describe("each preview identity reads exactly its own stack", () => {
  test("distinct teams: accepted, and the committing stack knows each previewed stack's team", () => {
    const config = parseStackConfig(dev, "dev", noSecrets, undefined, undefined, { prod: prodIdentity });
    assert.deepEqual(config.previewIdentities, { prod: prodIdentity });
  });

  test("one team for a gated and an ungated stack is refused at the stack's team, naming both stacks and the fix", () => {
    const shared = { ...prodIdentity, pulumiTeam: "orders-previews" };
    assert.deepEqual(problems({ ...dev, pulumiTeam: "orders-previews" }, "dev", { prod: shared }), [
      "canary-pipeline:pulumiTeam: \"orders-previews\" is the Pulumi Cloud team of this stack (dev), ungated: no requiredReviewers, and of prod (Pulumi.prod.yaml), gated: requiredReviewers: a pull request's preview of the ungated stack would run its code with a credential that reads the gated stack's state and decrypts its secrets; give each stack a team of its own, with read access to that stack only",
    ]);
    // prod's own run refuses it too, at its own key.
    const prod = { ...validRaw, ...cloud, pulumiTeam: "orders-previews", promoteFrom: "dev", requiredReviewers: ["a"] };
    const devIdentity = { ...cloud, pulumiTeam: "orders-previews", gated: false };
    const [line] = problems(prod, "prod", { dev: devIdentity });
    assert.match(
      line ?? "",
      /^canary-pipeline:pulumiTeam: "orders-previews" is the Pulumi Cloud team of this stack \(prod\), gated.*and of dev \(Pulumi\.dev\.yaml\), ungated/,
    );
    // Two ungated stacks, or teams of two organizations, may share a name.
    assert.deepEqual(
      problems({ ...dev, pulumiTeam: "t" }, "dev", { prod: { ...shared, pulumiTeam: "t", gated: false } }),
      [],
    );
    assert.deepEqual(
      problems({ ...dev, pulumiTeam: "t" }, "dev", {
        prod: { ...shared, pulumiTeam: "t", pulumiOrganization: "other" },
      }),
      [],
    );
  });

  test("an organization token where the stacks are gated and ungated is refused, for this stack and for a stack it previews", () => {
    const own = problems({ ...dev, pulumiTeam: undefined }, "dev", { prod: prodIdentity });
    assert.equal(own.length, 1);
    assert.match(
      own[0],
      /^canary-pipeline:pulumiTeam: is unset, so the preview jobs of this stack \(dev\) get an organization token of acme, which reads every stack of it, prod \(gated: requiredReviewers\) included, .*; set it to a Pulumi Cloud team with read access to dev only$/,
    );
    const theirs = problems(dev, "dev", { prod: { ...cloud, gated: true } });
    assert.equal(theirs.length, 1);
    assert.match(
      theirs[0],
      /^canary-pipeline:previewStacks: prod sets no pulumiTeam, so the preview jobs of prod \(Pulumi\.prod\.yaml\) get an organization token of acme, .*set pulumiTeam in Pulumi\.prod\.yaml to a Pulumi Cloud team/,
    );
    // All ungated: an organization token is accepted.
    assert.deepEqual(problems({ ...dev, pulumiTeam: undefined }, "dev", { prod: { ...cloud, gated: false } }), []);
  });

  test("one KMS key for a gated and an ungated stack is refused at the stack's key", () => {
    const raw = { ...validRaw, ...s3, pulumiSecretsKeyArn: key("shared") };
    const [line, ...more] = problems(raw, "dev", {
      prod: { ...s3, pulumiSecretsKeyArn: key("shared"), gated: true },
    });
    assert.deepEqual(more, []);
    assert.match(
      line ?? "",
      /^canary-pipeline:pulumiSecretsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key\/shared" is the KMS key of this stack \(dev\), ungated.*and of prod \(Pulumi\.prod\.yaml\), gated.*give each stack a KMS key of its own/,
    );
    assert.deepEqual(problems(raw, "dev", { prod: { ...s3, pulumiSecretsKeyArn: key("prod"), gated: true } }), []);
  });

  test("the stack that commits infra-preview.yml on Pulumi Cloud refuses a previewed stack whose identity it cannot know", () => {
    assert.deepEqual(problems(dev, "dev", {}), [
      "canary-pipeline:previewStacks: prod: infra-preview.yml previews each stack with its own Pulumi identity (its pulumiTeam and whether its requiredReviewers gate it), and that stack's settings are unknown here: keep Pulumi.prod.yaml beside Pulumi.yaml (a program that validates its settings itself passes them to parseStackConfig), or remove it from previewStacks",
    ]);
    // A program's settings: named by their Args path.
    assert.throws(
      () => parseStackConfig(dev, "dev", noSecrets, undefined, argsSettingNames("CanaryPipeline orders", "settings")),
      (e: unknown) =>
        e instanceof ConfigError && /^CanaryPipeline orders: settings\.previewStacks: prod: /.test(e.problems[0] ?? ""),
    );
    // A stack that previews itself alone, an S3 backend (each stack's own role), or one that commits no preview: accepted.
    assert.deepEqual(problems({ ...dev, previewStacks: ["dev"] }, "dev", {}), []);
    assert.deepEqual(problems({ ...dev, manageRepoWorkflows: false }, "dev", {}), []);
  });

  test("a previewed stack in another backend, or in none, is refused: the committing stack's file previews in its own", () => {
    assert.deepEqual(
      problems(dev, "dev", { prod: { ...prodIdentity, pulumiBackendUrl: "https://pulumi.acme.example" } }),
      [
        "canary-pipeline:previewStacks: prod (Pulumi.prod.yaml: pulumiBackendUrl https://pulumi.acme.example): infra-preview.yml previews every stack in this stack's backend, https://api.pulumi.com, each with its own identity there; name the same pulumiBackendUrl in every previewed stack's file, or remove it from previewStacks",
      ],
    );
    const [line] = problems(dev, "dev", { prod: { gated: true } });
    assert.match(line ?? "", /^canary-pipeline:previewStacks: prod \(Pulumi\.prod\.yaml: pulumiBackendUrl unset\): /);
  });

  test("the loader reads each other stack's identity from its stack file", () => {
    const dir = mkdtempSync(join(tmpdir(), "stacks-"));
    writeFileSync(join(dir, "Pulumi.yaml"), "name: canary-pipeline\nruntime: nodejs\n");
    writeFileSync(join(dir, "Pulumi.dev.yaml"), "config:\n  canary-pipeline:pulumiTeam: dev-previews\n");
    writeFileSync(
      join(dir, "Pulumi.prod.yaml"),
      "config:\n  canary-pipeline:pulumiBackendUrl: https://api.pulumi.com\n  pulumiOrganization: acme\n  canary-pipeline:pulumiTeam: prod-previews\n  canary-pipeline:requiredReviewers:\n    - alice\n",
    );
    writeFileSync(join(dir, "Pulumi.staging.yaml"), "config:\n  canary-pipeline:requiredReviewers: []\n");
    assert.deepEqual(otherStackIdentities(dir, "dev"), {
      prod: {
        pulumiBackendUrl: "https://api.pulumi.com",
        pulumiOrganization: "acme",
        pulumiTeam: "prod-previews",
        gated: true,
      },
      staging: { gated: false },
    });
    // A stack whose own file is elsewhere (--config-file) is compared with none.
    assert.deepEqual(otherStackIdentities(dir, "sandbox"), {});
  });
});
