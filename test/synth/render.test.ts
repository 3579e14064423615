// The offline render: deterministic, complete for both stacks, and silent on bad input.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { renderStack } from "../../synth/render";
import { readStackFile } from "../../config/stack-file";

const render = (stack: string) => renderStack({ stack, settings: readStackFile(`Pulumi.${stack}.yaml`) });

test("two renders of a stack are byte-identical", async () => {
  const first = await render("dev");
  const second = await render("dev");
  assert.deepEqual([...second.files.keys()], [...first.files.keys()]);
  for (const [path, content] of first.files) assert.equal(second.files.get(path), content, path);
});

test("both stacks render a resource list and a summary", async () => {
  for (const stack of ["dev", "prod"]) {
    const { files, resources } = await render(stack);
    const list = JSON.parse(files.get("resources.json")!) as {
      urn: string;
      type: string;
      parent: string | null;
      dependencies: string[];
    }[];
    assert.equal(list.length, resources.length);
    assert.ok(
      list.some((r) => r.type === "canary-pipeline:index:CanaryPipeline"),
      "the entry component is registered",
    );
    for (const r of list)
      for (const d of r.dependencies)
        assert.ok(
          list.some((o) => o.urn === d),
          `${r.urn} depends on a registered ${d}`,
        );
    assert.match(files.get("summary.md")!, new RegExp(`^# Stack \`${stack}\``));
  }
});

test("secure values render as placeholders and stay secret", async () => {
  const settings = readStackFile("Pulumi.dev.yaml");
  const withSecret = {
    config: { ...settings.config, "canary-pipeline:slackWebhook": "<secure canary-pipeline:slackWebhook>" },
    secretKeys: ["canary-pipeline:slackWebhook"],
  };
  const { files } = await renderStack({ stack: "dev", settings: withSecret });
  for (const [path, content] of files)
    assert.ok(!content.includes("<secure canary-pipeline:slackWebhook>"), `${path} shows the secret`);
});

function synth(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "synth/cli.ts", ...args], { encoding: "utf8" });
}

test("npm run synth writes the render; invalid configuration exits 1 and writes nothing", () => {
  const dir = mkdtempSync(join(tmpdir(), "synth-"));
  const good = synth(["--stack", "prod", "--out", join(dir, "prod")]);
  assert.equal(good.status, 0, good.stderr);
  assert.ok(existsSync(join(dir, "prod", "resources.json")));

  const bad = join(dir, "Pulumi.bad.yaml");
  writeFileSync(
    bad,
    readFileSync("Pulumi.dev.yaml", "utf8")
      .replace("canaryWeight: 10", "canaryWeight: 33")
      .replace("replicas: 9", "replicas: 0"),
  );
  const refused = synth(["--stack", "bad", "--config", bad, "--out", join(dir, "bad")]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /canary-pipeline:replicas: 0 must be a whole number from 1 to 100/);
  assert.doesNotMatch(refused.stderr, /\n\s+at /, "no stack trace");
  assert.equal(existsSync(join(dir, "bad")), false, "nothing written");
});
