// The kubeconfig a service's own Kubernetes provider deploys with, derived from the stack's
// settings, so that each stack acts on its own cluster whatever context is current on the machine
// that runs Pulumi (docs/cluster.md, "Which cluster"). The cluster comes from the settings; the
// credential from an exec plugin that runs where the provider runs, so the provider's inputs hold
// no credential and are the same on every machine. That matters beyond secrecy: `pulumi refresh`,
// `destroy` and the refresh before a preview configure the provider from its inputs as the state
// stored them (pulumi/pulumi pkg/resource/deploy/deployment_executor.go, refresh: EnsureProvider
// of the old state), so a stored credential would read the cluster as the last deployer, and a
// preview by another identity would show the provider changing.
// - eks: the cluster's endpoint and CA from its lookup, and `aws eks get-token` for that cluster
//   and region: the shape pulumi-eks generates (nodejs/eks/cluster/cluster.ts,
//   generateKubeconfig). Tokens live 15 minutes and come from whichever AWS session runs Pulumi.
// - token: clusterEndpoint and clusterCaData, and the user of one context of the machine's
//   kubeconfig (kubeconfigContext, or its current context), read by kubectl as it merges its files
//   and passed on as an ExecCredential (localCredentialScript). The context's own cluster is
//   ignored, so a current context of another cluster cannot redirect the stack.
// A kubeconfig or provider the caller gives replaces all of this.
import * as os from "node:os";
import * as path from "node:path";
import * as fs from "node:fs";
import { parse, stringify } from "yaml";
import { settingsError, stackSettingNames, type SettingNames } from "../../config/errors";

/** The exec credential's API version (client-go's `client.authentication.k8s.io/v1beta1`). */
const execApiVersion = "client.authentication.k8s.io/v1beta1";

/** eks: the kubeconfig of one EKS cluster, with a token from `aws eks get-token`. */
export function eksKubeconfig(cluster: { name: string; region: string; endpoint: string; caData: string }): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: cluster.name, cluster: { server: cluster.endpoint, "certificate-authority-data": cluster.caData } },
    ],
    users: [
      {
        name: "aws",
        user: {
          exec: {
            apiVersion: execApiVersion,
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", cluster.name, "--region", cluster.region, "--output", "json"],
            // As pulumi-eks sets it, for clients that do not (client-go's own value comes last and wins).
            env: [{ name: "KUBERNETES_EXEC_INFO", value: JSON.stringify({ apiVersion: execApiVersion }) }],
          },
        },
      },
    ],
    contexts: [{ name: cluster.name, context: { cluster: cluster.name, user: "aws" } }],
    "current-context": cluster.name,
  });
}

/** The context of the machine's kubeconfig a token-mode stack deploys as, and its user's name. */
export interface LocalUser {
  readonly context: string;
  readonly name: string;
}

interface Named {
  name?: unknown;
  [key: string]: unknown;
}
interface KubeconfigFile {
  "current-context"?: unknown;
  contexts?: Named[];
  users?: Named[];
}

/**
 * The files kubectl reads: KUBECONFIG's list (empty entries skipped, each once), else
 * ~/.kube/config (client-go tools/clientcmd/loader.go, NewDefaultClientConfigLoadingRules).
 */
export function localKubeconfigFiles(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string[] {
  const listed = (env.KUBECONFIG ?? "").split(path.delimiter).filter((f) => f !== "");
  return listed.length > 0 ? [...new Set(listed)] : [path.join(home, ".kube", "config")];
}

/**
 * Checks that the machine's kubeconfig has `context` (default: its current context) and the user
 * it names, merged as client-go merges its files: missing files are skipped, and the first file
 * that sets a current-context or names a context or user wins (loader.go, Load). Read when the
 * program runs, so that a missing or wrong context stops it at once: throws ConfigError naming
 * kubeconfigContext as `names` name the settings (default: the stack's key).
 */
export function localKubeconfigUser(
  context: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  home = os.homedir(),
  names: SettingNames = stackSettingNames,
): LocalUser {
  const fail = (why: string): never => {
    throw settingsError(names, [{ path: ["kubeconfigContext"], reason: why }])!;
  };
  const files = localKubeconfigFiles(env, home).filter((file) => fs.existsSync(file));
  const where = files.join(path.delimiter);
  if (files.length === 0) {
    fail(
      `clusterAuth token deploys as the user of a context of this machine's kubeconfig, and there is none (${env.KUBECONFIG ? `KUBECONFIG lists no file that exists` : "KUBECONFIG is unset and ~/.kube/config does not exist"}): add the cluster's credentials to one`,
    );
  }
  let current: string | undefined;
  const contexts = new Map<string, Named>();
  const users = new Set<string>();
  for (const file of files) {
    let parsed: KubeconfigFile | null;
    try {
      parsed = parse(fs.readFileSync(file, "utf8")) as KubeconfigFile | null;
    } catch (error) {
      return fail(
        `${file} is not a kubeconfig: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
      );
    }
    if (typeof parsed?.["current-context"] === "string" && parsed["current-context"] !== "")
      current ??= parsed["current-context"];
    for (const c of parsed?.contexts ?? [])
      if (typeof c.name === "string" && !contexts.has(c.name)) contexts.set(c.name, c);
    for (const u of parsed?.users ?? []) if (typeof u.name === "string") users.add(u.name);
  }
  const chosen =
    context ??
    current ??
    fail(`is unset and ${where} has no current-context: set it to the context whose user deploys to this cluster`);
  const found =
    contexts.get(chosen) ??
    fail(
      `${context === undefined ? `the current context ${JSON.stringify(chosen)}` : JSON.stringify(chosen)} is not a context of ${where} (its contexts: ${[...contexts.keys()].join(", ") || "none"})`,
    );
  const userName = (found.context as { user?: unknown } | undefined)?.user;
  if (typeof userName !== "string" || userName === "")
    return fail(`context ${JSON.stringify(chosen)} of ${where} names no user`);
  if (!users.has(userName))
    fail(`context ${JSON.stringify(chosen)} names user ${JSON.stringify(userName)}, which ${where} does not define`);
  return { context: chosen, name: userName };
}

/**
 * The exec plugin of a token-mode stack (`node --eval`, no file of its own): the credential of the
 * user of the context given as its argument (default: the current one) in the kubeconfig of the
 * machine it runs on, read by `kubectl config view --minify --flatten` (kubectl's merge of
 * KUBECONFIG's files, paths resolved and certificate files inlined), as an ExecCredential
 * (client-go pkg/apis/clientauthentication/v1beta1): a token, a token file's token, a client
 * certificate and key, or the status an exec plugin of that user prints.
 */
export const localCredentialScript = `
const { execFileSync } = require("node:child_process");
const context = process.argv[1];
const view = ["config", "view", "--raw", "--minify", "--flatten", "--output", "json", ...(context ? ["--context", context] : [])];
const config = JSON.parse(execFileSync("kubectl", view, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }));
const user = (config.users && config.users[0] && config.users[0].user) || {};
const pem = (data) => Buffer.from(data, "base64").toString("utf8");
let status;
if (user.token) status = { token: user.token };
else if (user.tokenFile) status = { token: require("node:fs").readFileSync(user.tokenFile, "utf8").trim() };
else if (user["client-certificate-data"] && user["client-key-data"]) status = { clientCertificateData: pem(user["client-certificate-data"]), clientKeyData: pem(user["client-key-data"]) };
else if (user.exec) {
  const env = { ...process.env, ...Object.fromEntries((user.exec.env || []).map((e) => [e.name, e.value])) };
  status = JSON.parse(execFileSync(user.exec.command, user.exec.args || [], { encoding: "utf8", env, stdio: ["inherit", "pipe", "inherit"] })).status;
} else {
  process.stderr.write("canary-pipeline: the user of kubeconfig context " + (context || config["current-context"]) + " has no token, token file, client certificate or exec plugin to deploy with\\n");
  process.exit(1);
}
process.stdout.write(JSON.stringify({ apiVersion: "${execApiVersion}", kind: "ExecCredential", status }));
`.trim();

/** token: the settings' cluster, with the credential of the machine's kubeconfig context (default: the current one). */
export function tokenModeKubeconfig(cluster: { server: string; caData: string }, context?: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "cluster", cluster: { server: cluster.server, "certificate-authority-data": cluster.caData } }],
    users: [
      {
        name: "local",
        user: {
          exec: {
            apiVersion: execApiVersion,
            command: "node",
            args: ["--eval", localCredentialScript, ...(context !== undefined ? ["--", context] : [])],
          },
        },
      },
    ],
    contexts: [{ name: "cluster", context: { cluster: "cluster", user: "local" } }],
    "current-context": "cluster",
  });
}

/** A kubeconfig's contents: the value itself, or the file it names (as the provider reads a path, `~/` included). */
export function kubeconfigContents(value: string, home = os.homedir()): string {
  const text = value.trim();
  if (text.includes("\n") || text.startsWith("{")) return value;
  return fs.readFileSync(text.startsWith("~/") ? path.join(home, text.slice(2)) : text, "utf8");
}
