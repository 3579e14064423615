// Reads the kubectl commands out of shell scripts and maps each to the Kubernetes API requests it
// makes, independently of the catalogue that generated them, so the deployer Role can be checked
// against what the scripts really do. A command this module does not know is an error, never a
// skip. What each command requests: kubectl's own source (k8s.io/kubectl, pkg/cmd/...), each verb
// proven needed against the real authoriser by test/cluster/token-mode.test.ts, scenario 3.
// Custom resources (canaryEngine argo-rollouts): Argo Rollouts' `Rollout`, as its CRD names it
// (argoproj/argo-rollouts v1.10.1, manifests/crds/rollout-crd.yaml: group argoproj.io, plural
// rollouts, singular rollout, short name ro, with the status and scale subresources).
import { parse } from "yaml";

/** One API request: verb on a (sub)resource, by name when the command names its object. */
export interface ApiRequest {
  readonly apiGroup: string;
  readonly resource: string;
  readonly verb: string;
  readonly name?: string;
  readonly namespace?: string;
}

/** A kubectl invocation found in a script. */
interface KubectlCommand {
  readonly text: string;
  readonly argv: readonly string[];
}

const apiGroupOf: Record<string, string> = {
  deployments: "apps",
  "deployments/scale": "apps",
  replicasets: "apps",
  pods: "",
  "pods/log": "",
  services: "",
  configmaps: "",
  secrets: "",
  rollouts: "argoproj.io",
  "rollouts/status": "argoproj.io",
};
/** The resources a custom resource definition serves (the API server knows no strategic merge patch for them). */
const customResources = new Set(["rollouts"]);
/** The subresources each resource serves: `kubectl patch --subresource`'s targets. */
const subresourcesOf: Record<string, readonly string[]> = {
  deployments: ["status", "scale"],
  rollouts: ["status", "scale"],
};
/** What `kubectl rollout` knows (k8s.io/kubectl pkg/polymorphichelpers, statusviewer.go and rollback.go): not a Rollout. */
const rolloutCommandKinds = new Set(["deployments"]);
const pluralOf: Record<string, string> = {
  deployment: "deployments",
  deploy: "deployments",
  pod: "pods",
  po: "pods",
  replicaset: "replicasets",
  service: "services",
  svc: "services",
  rollout: "rollouts",
  ro: "rollouts",
};

/** Splits shell words from `text` until an operator or an unmatched closing quote/paren. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) break; // the closing quote of a surrounding string: the command ends here
      word += text.slice(i + 1, end);
      inWord = true;
      i = end;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (j >= text.length) break;
      word += text.slice(i + 1, j);
      inWord = true;
      i = j;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    if (";|&)}<>".includes(c) || c === "`") break;
    word += c;
    inWord = true;
  }
  if (inWord) words.push(word);
  return words;
}

interface Heredoc {
  readonly target?: string;
  readonly body: string;
}

/** Drops heredoc bodies from the script, keeping those written to a file (`cat > F <<'X'`). */
function splitHeredocs(script: string): { lines: string[]; heredocs: Heredoc[] } {
  const lines: string[] = [];
  const heredocs: Heredoc[] = [];
  const source = script.replace(/\\\n/g, " ").split("\n");
  for (let i = 0; i < source.length; i++) {
    const line = source[i];
    lines.push(line);
    const marker = /<<-?\s*['"]?(\w+)['"]?/.exec(line);
    if (!marker) continue;
    const end = source.findIndex((l, j) => j > i && l.trim() === marker[1]);
    if (end < 0) throw new Error(`unterminated heredoc ${marker[1]} in: ${line}`);
    const target = /cat\s*>\s*("[^"]+"|'[^']+'|\S+)/.exec(line)?.[1];
    heredocs.push({
      ...(target ? { target: target.replace(/^["']|["']$/g, "") } : {}),
      body: source.slice(i + 1, end).join("\n"),
    });
    i = end;
  }
  return { lines, heredocs };
}

const kubectlWord = /(?<![\w./-])kubectl(?![\w-])/g;
/** A shell function defined on one line, `name() { body; }`. */
const oneLineFunction = /^\s*([A-Za-z_]\w*)\s*\(\)\s*\{\s*(.*?)\s*;?\s*\}\s*$/;

/**
 * Every kubectl invocation in a script, with the files its heredocs write. A one-line shell
 * function whose body runs kubectl (the scripts' preambles: components/shared/script-files.ts)
 * runs it where the function is called, its positional parameters ("$1"…) being the call's words.
 */
export function kubectlCommands(script: string): { commands: KubectlCommand[]; files: Map<string, string> } {
  const { lines, heredocs } = splitHeredocs(script);
  const commands: KubectlCommand[] = [];
  const scan = (text: string) => {
    for (const match of text.matchAll(kubectlWord)) {
      const argv = shellWords(text.slice(match.index));
      commands.push({ text: argv.join(" "), argv: argv.slice(1) });
    }
  };
  const functions = new Map<string, string>();
  for (const line of lines) {
    const definition = oneLineFunction.exec(line);
    if (definition && new RegExp(kubectlWord.source).test(definition[2])) functions.set(definition[1], definition[2]);
  }
  for (const line of lines) {
    if (/^\s*#/.test(line)) continue;
    const definition = oneLineFunction.exec(line);
    if (definition && functions.has(definition[1])) continue;
    scan(line);
    for (const [name, body] of functions) {
      for (const call of line.matchAll(new RegExp(`(?<![\\w./$-])${name}(?![\\w-])`, "g"))) {
        const args = shellWords(line.slice(call.index + name.length));
        scan(
          body.replace(
            /"\$(\d)"|\$(\d)/g,
            (_, quoted: string | undefined, bare: string | undefined) => `"${args[Number(quoted ?? bare) - 1] ?? ""}"`,
          ),
        );
      }
    }
  }
  const files = new Map(heredocs.flatMap((h) => (h.target ? [[h.target, h.body] as const] : [])));
  return { commands, files };
}

/**
 * Splits argv into positional words and flags (`--flag=value`, `--flag value`, `-n value`).
 * `verbValued`: the flags that take a value for this command only (`kubectl patch -p`, where
 * `kubectl logs -p` is a boolean).
 */
export function parseArgs(
  argv: readonly string[],
  verbValued: readonly string[] = [],
): { words: string[]; flags: Map<string, string> } {
  const valued = new Set([
    ...verbValued,
    "--namespace",
    "-n",
    "--selector",
    "-l",
    "--filename",
    "-f",
    "--output",
    "-o",
    "--for",
    "--timeout",
    "--replicas",
    "--resource-version",
    "--container",
    "-c",
    "--region",
    "--name",
    "--patch",
    "--patch-file",
    "--type",
    "--subresource",
  ]);
  const words: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("-")) {
      const eq = a.indexOf("=");
      if (eq > 0) flags.set(a.slice(0, eq), a.slice(eq + 1));
      else if (valued.has(a)) flags.set(a, argv[++i] ?? "");
      else flags.set(a, "true");
    } else words.push(a);
  }
  return { words, flags };
}

/** `deployment/x`, or `deployment x`: the resource's plural and the name. */
function target(words: string[], at: number): { resource: string; name?: string; next: number } {
  const word = words[at] ?? "";
  const [kind, name] = word.includes("/") ? (word.split("/", 2) as [string, string]) : [word, undefined];
  const resource = pluralOf[kind.toLowerCase()] ?? kind.toLowerCase();
  if (!(resource in apiGroupOf)) throw new Error(`unknown resource kind "${kind}"`);
  if (name !== undefined) return { resource, name, next: at + 1 };
  const following = words[at + 1];
  return following !== undefined ? { resource, name: following, next: at + 2 } : { resource, next: at + 1 };
}

const request = (
  resource: string,
  verb: string,
  name: string | undefined,
  namespace: string | undefined,
): ApiRequest => ({
  apiGroup: apiGroupOf[resource],
  resource,
  verb,
  ...(name !== undefined ? { name } : {}),
  ...(namespace !== undefined ? { namespace } : {}),
});

/** The objects a manifest file holds (JSON or YAML, one or several documents). */
function manifestObjects(content: string): { resource: string; name?: string }[] {
  const documents = content
    .split(/^---$/m)
    .map((d) => parse(d) as { kind?: string; metadata?: { name?: string } } | null)
    .filter((d) => d !== null);
  return documents.map((d) => {
    const resource = pluralOf[(d.kind ?? "").toLowerCase()];
    if (!resource) throw new Error(`manifest holds an unknown kind ${String(d.kind)}`);
    return { resource, ...(d.metadata?.name ? { name: d.metadata.name } : {}) };
  });
}

/**
 * The API requests one kubectl command makes. `files` holds the manifests the script wrote,
 * for `create --filename`. Throws on a command it does not know.
 */
export function apiRequests(command: KubectlCommand, files: ReadonlyMap<string, string> = new Map()): ApiRequest[] {
  const { words, flags } = parseArgs(command.argv, command.argv[0] === "patch" ? ["-p"] : []);
  const ns = flags.get("--namespace") ?? flags.get("-n");
  const waits = (flags.get("--wait") ?? "true") !== "false";
  const [verb, sub] = words;
  const fail = (why: string): never => {
    throw new Error(`kubectl ${command.argv.join(" ")}: ${why}`);
  };
  switch (verb) {
    case "version":
      return flags.has("--client") ? [] : fail("asks the server its version");
    case "config":
      return []; // local kubeconfig editing
    case "set": {
      if (sub !== "image") fail(`unknown set subcommand ${String(sub)}`);
      const t = target(words, 2);
      // pkg/polymorphichelpers/updatepodspec.go knows the built-in workloads only: a custom resource has no pod spec for it.
      if (customResources.has(t.resource))
        fail(`sets the image of a ${t.resource} custom resource, which kubectl set image cannot`);
      return [request(t.resource, "get", t.name, ns), request(t.resource, "patch", t.name, ns)];
    }
    case "annotate": {
      // pkg/cmd/annotate: the builder gets the object, then a merge patch sets the annotations.
      const t = target(words, 1);
      return [request(t.resource, "get", t.name, ns), request(t.resource, "patch", t.name, ns)];
    }
    case "scale": {
      const t = target(words, 1);
      if (t.resource !== "deployments") fail("scales something other than a Deployment");
      // With --resource-version, pkg/scale gets the scale subresource and updates it (a precondition); else a merge patch.
      return flags.has("--resource-version")
        ? [
            request("deployments", "get", t.name, ns),
            request("deployments/scale", "get", t.name, ns),
            request("deployments/scale", "update", t.name, ns),
          ]
        : [request("deployments", "get", t.name, ns), request("deployments/scale", "patch", t.name, ns)];
    }
    case "rollout": {
      const t = target(words, 2);
      if (!rolloutCommandKinds.has(t.resource))
        fail(`kubectl rollout knows no ${t.resource} (pkg/polymorphichelpers: Deployments, DaemonSets, StatefulSets)`);
      if (sub === "status") return ["get", "list", "watch"].map((v) => request(t.resource, v, t.name, ns));
      if (sub === "undo")
        return [
          request(t.resource, "get", t.name, ns),
          request(t.resource, "patch", t.name, ns),
          request("replicasets", "list", undefined, ns),
        ];
      return fail(`unknown rollout subcommand ${String(sub)}`);
    }
    case "patch": {
      // k8s.io/kubectl@v0.36.3 pkg/cmd/patch/patch.go, RunPatch: the builder (lines 224-233, without
      // RequireObject(false), so cli-runtime's Builder.Do adds RetrieveLazy: builder.go 190 and 1191)
      // GETs the object first, through the --subresource when one is given (visitor.go 100, Info.Get
      // with WithSubresource; helper.go 99-105); then helper.Patch (lines 254-259) PATCHes the same
      // path. So `--subresource=status` is a GET and a PATCH of `<resource>/status`, and the plain
      // object is not requested at all. No --record: the recorder's second patch (line 273) is a no-op.
      const allowed = new Set(["--type", "--patch", "-p", "--subresource", "--namespace", "-n", "--output", "-o"]);
      const unknownFlags = [...flags.keys()].filter((f) => !allowed.has(f));
      if (unknownFlags.length > 0) fail(`patches with flags this verifier does not know (${unknownFlags.join(", ")})`);
      const t = target(words, 1);
      if (t.name === undefined || t.next !== words.length) fail("patches something other than one named object");
      if (!(flags.get("--patch") ?? flags.get("-p"))) fail("patches without --patch");
      // The default type is strategic (patch.go 139), which a custom resource refuses with 415
      // (k8s.io/apiextensions-apiserver@v0.36.3 pkg/apiserver/customresource_handler.go 328-333:
      // json, merge and apply patches only).
      const type = (flags.get("--type") ?? "strategic").toLowerCase();
      if (!["json", "merge", "strategic"].includes(type)) fail(`patches with an unknown --type ${type}`);
      if (type === "strategic" && customResources.has(t.resource))
        fail(
          `strategic-merge-patches a ${t.resource} custom resource, which the API server refuses (415): use --type=merge or --type=json`,
        );
      const subresource = flags.get("--subresource");
      if (subresource !== undefined && !(subresourcesOf[t.resource] ?? []).includes(subresource))
        fail(`patches ${t.resource}/${subresource}, a subresource this verifier does not know`);
      const resource = subresource === undefined ? t.resource : `${t.resource}/${subresource}`;
      if (!(resource in apiGroupOf)) fail(`patches ${resource}, a resource this verifier does not know`);
      return [request(resource, "get", t.name, ns), request(resource, "patch", t.name, ns)];
    }
    case "get": {
      const t = target(words, 1);
      return t.name !== undefined
        ? [request(t.resource, "get", t.name, ns)]
        : [request(t.resource, "list", undefined, ns)];
    }
    case "wait": {
      const t = target(words, 1);
      if (t.name === undefined) fail("waits on objects it does not name");
      return ["get", "list", "watch"].map((v) => request(t.resource, v, t.name, ns));
    }
    case "logs": {
      const t = target(words, 1);
      if (t.resource !== "pods" || t.name === undefined) fail("reads logs of something other than a named pod");
      return [request("pods", "get", t.name, ns), request("pods/log", "get", t.name, ns)];
    }
    case "delete": {
      const t = target(words, 1);
      return [
        request(t.resource, "delete", t.name, ns),
        ...(waits ? ["get", "list", "watch"].map((v) => request(t.resource, v, t.name, ns)) : []),
      ];
    }
    case "create": {
      const file = flags.get("--filename") ?? flags.get("-f");
      const content = file === undefined ? undefined : files.get(file);
      if (content === undefined) fail(`creates from ${String(file)}, a manifest the script does not write`);
      return manifestObjects(content!).map((o) => request(o.resource, "create", undefined, ns));
    }
    default:
      return fail(`is not a command this verifier knows (${String(verb)}): teach verify/kubectl.ts what it requests`);
  }
}
