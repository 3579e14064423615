// URNs as the engine names them: a child's type carries its parent's qualified type, except under
// the root stack.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createUrn, isRootStack, urnParts } from "../../testing/urn";

const stack = "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev";

test("a URN is qualified by its ancestors' types, not by the root stack's", () => {
  const component = createUrn("app", "pkg:index:App", stack, "proj", "dev");
  assert.equal(component, "urn:pulumi:dev::proj::pkg:index:App::app");
  const child = createUrn("app-bucket", "aws:s3/bucket:Bucket", component, "proj", "dev");
  assert.equal(child, "urn:pulumi:dev::proj::pkg:index:App$aws:s3/bucket:Bucket::app-bucket");
  assert.equal(createUrn("lone", "pkg:index:Lone", "", "proj", "dev"), "urn:pulumi:dev::proj::pkg:index:Lone::lone");
  assert.deepEqual(urnParts(child), {
    stack: "dev",
    project: "proj",
    qualifiedType: "pkg:index:App$aws:s3/bucket:Bucket",
    type: "aws:s3/bucket:Bucket",
    name: "app-bucket",
  });
  assert.ok(isRootStack(stack));
  assert.ok(!isRootStack(component));
});
