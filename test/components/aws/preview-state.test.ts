// With an S3 backend the preview role reads exactly its stack's state (the checkpoint, plain or
// compressed, and the backend's meta.yaml), lists only under that checkpoint's key, and decrypts
// with exactly the stack's KMS key: evaluated, not compared as text. It may write nothing, take no
// lock, and read no other stack's state.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { renderStack } from "../../../synth/render";
import { readStackFile } from "../../../config/stack-file";
import { evaluatePolicy, type IamRequest } from "../../../verify/iam-policy";

const bucket = "arn:aws:s3:::globex-pulumi-state";
const key = "arn:aws:kms:eu-central-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const checkpoint = "billing/.pulumi/stacks/canary-pipeline/token.json";

describe("the preview role of a stack in an S3 backend (the token fixture)", () => {
  let policy: unknown;
  before(async () => {
    const render = await renderStack({ stack: "token", settings: readStackFile("test/fixtures/Pulumi.token.yaml") });
    const document = render.resources.find(
      (r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.includes("preview"),
    );
    assert.ok(document, "a preview policy");
    policy = document.inputs.policy;
  });
  const decide = (request: IamRequest) => evaluatePolicy(policy, request);
  const get = (object: string) => decide({ action: "s3:GetObject", resource: `${bucket}/${object}` });

  test("reads the stack's checkpoint in every form, and the backend's metadata", () => {
    for (const object of [checkpoint, `${checkpoint}.gz`, `${checkpoint}.zst`, "billing/.pulumi/meta.yaml"])
      assert.equal(get(object), "allow", object);
  });
  test("lists the bucket under the checkpoint's key only", () => {
    assert.equal(decide({ action: "s3:ListBucket", resource: bucket, context: { "s3:prefix": checkpoint } }), "allow");
    for (const prefix of ["billing/.pulumi/stacks/", "billing/", ""]) {
      assert.equal(
        decide({ action: "s3:ListBucket", resource: bucket, context: { "s3:prefix": prefix } }),
        "implicitDeny",
        JSON.stringify(prefix),
      );
    }
  });
  test("decrypts with the stack's key only, and encrypts with none", () => {
    assert.equal(decide({ action: "kms:Decrypt", resource: key }), "allow");
    assert.equal(
      decide({ action: "kms:Decrypt", resource: "arn:aws:kms:eu-central-1:123456789012:key/another" }),
      "implicitDeny",
    );
    assert.equal(decide({ action: "kms:Encrypt", resource: key }), "implicitDeny");
  });
  test("reads no other stack's state and writes nothing: no lock, no history, no backup", () => {
    for (const object of [
      "billing/.pulumi/stacks/canary-pipeline/prod.json",
      "billing/.pulumi/stacks/other-project/token.json",
      "other/.pulumi/stacks/canary-pipeline/token.json",
    ]) {
      assert.equal(get(object), "implicitDeny", object);
    }
    for (const object of [
      checkpoint,
      "billing/.pulumi/locks/organization/canary-pipeline/token/x.json",
      "billing/.pulumi/history/canary-pipeline/token/x.history.json",
    ]) {
      for (const action of ["s3:PutObject", "s3:DeleteObject"])
        assert.equal(decide({ action, resource: `${bucket}/${object}` }), "implicitDeny", `${action} ${object}`);
    }
  });
});
