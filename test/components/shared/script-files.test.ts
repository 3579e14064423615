// What TypeScript adds ahead of a script file: parameters that are literals whatever they hold (in
// sh and in bash), defaults a variable overrides, a file written by a heredoc, and the preamble of
// the catalogue's commands, one function each.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { clusterOperations, clusterTargets } from "../../../components/shared/cluster-operations";
import {
  composeScript,
  operationPreamble,
  scriptFiles,
  scriptsFolder,
  scriptText,
  shellFileParameter,
  shellFunctionName,
  shellParameters,
  shellWord,
  type ScriptFile,
} from "../../../components/shared/script-files";

const odd = [
  "",
  "plain",
  "with space",
  "a\"b'c",
  "$(id>evaluated) `id>evaluated` $HOME ${HOME}",
  "back\\slash\\",
  "brace } and {",
  "new\nline",
  "!bang ~tilde *glob ?q [x]",
  "-dash",
  "0.05",
];
const shells = ["sh", "bash"] as const;
const run = (shell: string, script: string, env: Record<string, string> = {}) =>
  spawnSync(shell, ["-c", script], { encoding: "utf8", cwd: scriptsFolder, env: { PATH: process.env.PATH, ...env } });

describe("parameters", () => {
  for (const shell of shells) {
    test(`each value is the literal it was, in ${shell}: nothing evaluated, nothing split`, () => {
      const names = odd.map((_, i) => `P_${i}`);
      const script = `${shellParameters(Object.fromEntries(odd.map((v, i) => [names[i], v])), { exported: true })}\nfor n in ${names.join(" ")}; do printenv "$n"; printf '\\0'; done`;
      const r = run(shell, script);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(
        r.stdout
          .split("\0")
          .slice(0, -1)
          .map((v) => v.replace(/\n$/, "")),
        odd,
      );
      for (const v of odd) assert.equal(run(shell, `printf '%s' ${shellWord(v)}`).stdout, v, v);
    });
    test(`a default holds unless the variable is set and not empty, in ${shell}`, () => {
      const script = `${shellParameters({ D: { default: "brace } $(id>evaluated)" } }, { exported: true })}\nprintenv D`;
      assert.equal(run(shell, script).stdout, "brace } $(id>evaluated)\n");
      assert.equal(run(shell, script, { D: "" }).stdout, "brace } $(id>evaluated)\n");
      assert.equal(run(shell, script, { D: "given" }).stdout, "given\n");
    });
  }
  test("a parameter's name is upper case, digits and _", () => {
    assert.throws(() => shellParameters({ lower: 1 }), /lower is not a script parameter's name/);
    assert.throws(() => shellFileParameter("A-B", "x"), /A-B is not a script parameter's name/);
  });
  test("a file parameter: a new file holding the content as it is; a line equal to its heredoc's end is refused", () => {
    const content = '{\n  "command": "echo \\"$HOME\\" `id`"\n}';
    const r = run("sh", `${shellFileParameter("F", content)}\ncat "$F"; rm -f "$F"`);
    assert.equal(r.stdout, `${content}\n`);
    assert.throws(() => shellFileParameter("F", "a\nMANIFEST\nb"), /holds a line MANIFEST/);
  });
});

describe("the preamble", () => {
  const t = clusterTargets({ appName: "orders-api", namespace: "orders" });
  test("one function a line, named by the operation in snake case, running the catalogue's command", () => {
    const preamble = operationPreamble({
      removePod: clusterOperations.deletePod(t, "p"),
      createPod: clusterOperations.createPod(t, { name: "p", image: "i" }),
    });
    assert.equal(
      preamble,
      [
        "remove_pod() { kubectl delete pod/p --ignore-not-found --wait=false --namespace orders; }",
        'create_pod() { kubectl create --filename "$1" --namespace orders; }',
      ].join("\n"),
    );
    assert.equal(shellFunctionName("canaryPodStates"), "canary_pod_states");
  });
  test("a function's arguments are its command's: create_pod FILE creates from FILE", () => {
    const r = run(
      "sh",
      composeScript(
        `kubectl() { printf '%s|' "$@"; }`,
        operationPreamble({ createPod: clusterOperations.createPod(t, { name: "p", image: "i" }) }),
        'create_pod "/tmp/a file.json"',
      ),
    );
    assert.equal(r.stdout, "create|--filename|/tmp/a file.json|--namespace|orders|");
  });
});

test("the script files are exactly the files of components/scripts/, each naming its shell for shellcheck; the rendered text leaves that line out", () => {
  assert.deepEqual(readdirSync(scriptsFolder).sort(), Object.keys(scriptFiles).sort());
  for (const [name, shell] of Object.entries(scriptFiles) as [ScriptFile, string][]) {
    const [first, ...rest] = readFileSync(join(scriptsFolder, name), "utf8").split("\n");
    assert.equal(first, `# shellcheck shell=${shell}`, name);
    assert.equal(scriptText(name), rest.join("\n"), name);
  }
});
