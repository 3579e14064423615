// The dev stack's URNs, pinned. A URN is a resource's identity in the state: a changed type token,
// child name or parent makes the engine delete the old resource and create a new one (for a
// Kubernetes object with a fixed name, a create that fails AlreadyExists). So any change here must
// be deliberate, and for a deployed stack come with an alias (docs/library.md, "Stable URNs").
//
// To accept a deliberate change: UPDATE_URN_SNAPSHOT=1 node --import tsx --test
// test/components/dev-stack-urns.test.ts, then review the diff of dev-stack-urns.json and commit it
// together with the aliases that carry deployed resources over (verify/state-continuity.ts proves
// they do: test/verify/state-continuity.test.ts runs a moved provider against this snapshot).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { renderStack } from "../../synth/render";
import { readStackFile } from "../../config/stack-file";

const snapshot = join(__dirname, "dev-stack-urns.json");

test("the dev stack's URNs are the committed ones", async () => {
  const { resources } = await renderStack({ stack: "dev", settings: readStackFile("Pulumi.dev.yaml") });
  const urns = resources.map((r) => r.urn).sort();
  if (process.env.UPDATE_URN_SNAPSHOT === "1") writeFileSync(snapshot, `${JSON.stringify(urns, null, 2)}\n`);
  const pinned = JSON.parse(readFileSync(snapshot, "utf8")) as string[];
  const gone = pinned.filter((u) => !urns.includes(u));
  const added = urns.filter((u) => !pinned.includes(u));
  assert.deepEqual(
    { gone, added },
    { gone: [], added: [] },
    "URNs changed: a deployed resource would be replaced. Add an alias, or update the snapshot deliberately (see the top of this file)",
  );
});
