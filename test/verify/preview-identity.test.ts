// npm run verify refuses a Pulumi identity shared between a gated and an ungated stack's previews:
// the same Pulumi Cloud team, an organization token, or the same KMS key. The project's own renders
// (dev ungated, prod gated, each previewed with its own team) pass; each sharing, made on purpose
// in a rendered file or in two small renders, is a finding naming both stacks and the fix.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { readStackFile } from "../../config/stack-file";
import { renderStack } from "../../synth/render";
import { checkPreviewIdentities } from "../../verify/preview-identity";

const preview = "repo/.github/workflows/infra-preview.yml";
const renders = new Map<string, Map<string, string>>();
before(async () => {
  for (const stack of ["dev", "prod"])
    renders.set(stack, (await renderStack({ stack, settings: readStackFile(`Pulumi.${stack}.yaml`) })).files);
});

/** dev's render with infra-preview.yml edited. */
function editPreview(
  edit: (jobs: Record<string, { steps: { uses?: string; with?: Record<string, unknown> }[] }>) => void,
) {
  const files = new Map(renders.get("dev"));
  const doc = parse(files.get(preview)!) as { jobs: Parameters<typeof edit>[0] };
  edit(doc.jobs);
  files.set(preview, stringify(doc));
  return files;
}
const auth = (job: { steps: { uses?: string; with?: Record<string, unknown> }[] }) =>
  job.steps.find((s) => s.uses?.startsWith("pulumi/auth-actions@"))!.with!;

describe("Pulumi identities of the previews", () => {
  test("dev and prod, each previewed with its own team: no finding", () => {
    assert.deepEqual(checkPreviewIdentities(renders.get("dev")!, [renders.get("prod")!]), []);
    assert.deepEqual(checkPreviewIdentities(renders.get("prod")!, [renders.get("dev")!]), []);
  });

  test("prod's preview with dev's team: a finding naming both stacks and the fix", () => {
    const files = editPreview((jobs) => {
      auth(jobs["preview-prod"]).scope = "team:orders-dev-previews";
    });
    assert.deepEqual(checkPreviewIdentities(files, [renders.get("prod")!]), [
      "the Pulumi Cloud team acme/orders-dev-previews is what the previews of prod (gated: its environment has reviewers) (.github/workflows/infra-preview.yml job preview-prod) and of dev (ungated) (.github/workflows/drift-dev.yml job drift) get: a pull request's preview of dev runs its code with a credential that reads prod's state and decrypts its secrets; give each stack a Pulumi Cloud team of its own (pulumiTeam), with read access to that stack only",
    ]);
  });

  test("dev's preview with an organization token reads prod too: a finding", () => {
    const files = editPreview((jobs) => {
      const w = auth(jobs["preview-dev"]);
      w["requested-token-type"] = "urn:pulumi:token-type:access_token:organization";
      delete w.scope;
    });
    const findings = checkPreviewIdentities(files, [renders.get("prod")!]);
    assert.equal(findings.length, 1, findings.join("\n"));
    assert.match(
      findings[0],
      /^an organization token of acme is what the previews of dev \(ungated\) get \(.*infra-preview\.yml job preview-dev\), and it reads every stack of acme, prod \(gated: its environment has reviewers\) included: .*; set pulumiTeam in each stack's file to a team with read access to that stack only$/,
    );
  });

  test("one KMS key in a gated and an ungated stack's preview roles: a finding", () => {
    const key = "arn:aws:kms:eu-west-1:123456789012:key/shared";
    const findings = checkPreviewIdentities(s3Render("dev", false, key), [s3Render("prod", true, key)]);
    assert.deepEqual(findings, [
      `the KMS key ${key} is what the previews of prod (gated: its environment has reviewers) (.github/workflows/drift-prod.yml job drift) and of dev (ungated) (.github/workflows/drift-dev.yml job drift) get: a pull request's preview of dev runs its code with a credential that reads prod's state and decrypts its secrets; give each stack a KMS key of its own (pulumiSecretsKeyArn; pulumi stack change-secrets-provider awskms:///<key ARN>), which only its preview role may decrypt with`,
    ]);
    assert.deepEqual(
      checkPreviewIdentities(s3Render("dev", false, `${key}-dev`), [s3Render("prod", true, `${key}-prod`)]),
      [],
    );
  });
});

/** A small render of `stack` in an S3 backend: its drift workflow assumes its preview role, which decrypts with `key`. */
function s3Render(stack: string, gated: boolean, key: string): Map<string, string> {
  const urn = (type: string, name: string) => `urn:pulumi:${stack}::canary-pipeline::${type}::${name}`;
  const role = `${stack}-preview-role`;
  const roleArn = `arn:aws:iam::123456789012:role/${role}`;
  const variable = `AWS_PREVIEW_ROLE_ARN_${stack.toUpperCase()}`;
  const file = `.github/workflows/drift-${stack}.yml`;
  const resource = (type: string, name: string, inputs: Record<string, unknown>) => ({
    urn: urn(type, name),
    type,
    name,
    parent: null,
    provider: null,
    dependencies: [],
    inputs,
  });
  const resources = [
    resource("github:index/repositoryEnvironment:RepositoryEnvironment", `${stack}-env`, {
      repository: "orders-api",
      environment: stack,
      ...(gated ? { reviewers: [{ users: [1], teams: [] }] } : {}),
    }),
    resource("aws:iam/role:Role", role, { name: role }),
    resource("aws:iam/rolePolicy:RolePolicy", `${stack}-preview-policy`, {
      role,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "kms:Decrypt", Resource: key }],
      }),
    }),
    resource("github:index/actionsVariable:ActionsVariable", `${stack}-variable`, {
      repository: "orders-api",
      variableName: variable,
      value: roleArn,
    }),
    resource("github:index/repositoryFile:RepositoryFile", `${stack}-drift`, {
      repository: "orders-api",
      file,
      branch: "main",
    }),
  ];
  const workflow = {
    on: { schedule: [{ cron: "0 6 * * 1-5" }] },
    jobs: {
      drift: {
        environment: { name: `${stack}-drift` },
        permissions: { "id-token": "write" },
        steps: [
          { uses: "aws-actions/configure-aws-credentials@x", with: { "role-to-assume": `\${{ vars.${variable} }}` } },
          {
            uses: "pulumi/actions@x",
            with: { command: "preview", "stack-name": stack, "cloud-url": "s3://acme-state/orders" },
          },
        ],
      },
    },
  };
  return new Map([
    ["resources.json", JSON.stringify(resources)],
    [`aws/${role}.trust.json`, JSON.stringify({ Version: "2012-10-17", Statement: [] })],
    [`repo/${file}`, stringify(workflow)],
  ]);
}
