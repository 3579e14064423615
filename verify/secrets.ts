// Secrets: every credential the stack handles is a secret in resources.json, and no secret value,
// nor a prefix long enough to matter, appears in plain text anywhere in the render.
import { resourceEntries, type RenderFiles } from "./render-files";

export const secretPlaceholder = "[secret]";

/** The shortest prefix of a secret value that counts as a leak. */
const leakPrefixLength = 12;

/**
 * Inputs that carry credentials, by resource type: each must be rendered as the placeholder
 * (`*` stands for every key of a map).
 */
const credentialInputs: Record<string, readonly string[]> = {
  "github:index/actionsSecret:ActionsSecret": ["plaintextValue"],
  "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret": ["plaintextValue"],
  "kubernetes:core/v1:Secret": ["data.*", "stringData.*"],
};

function valuesAt(inputs: unknown, path: string[]): unknown[] {
  if (path.length === 0) return [inputs];
  if (inputs === null || typeof inputs !== "object") return [];
  const [head, ...rest] = path;
  const object = inputs as Record<string, unknown>;
  if (object[head] === secretPlaceholder) return [secretPlaceholder]; // the whole map is secret
  if (head === "*") return Object.values(object).flatMap((v) => valuesAt(v, rest));
  return head in object ? valuesAt(object[head], rest) : [];
}

/**
 * Findings for a render. `knownSecrets` are the plain values the render was given (config
 * secrets, computed credentials such as a service-account token), by name.
 */
export function checkSecrets(files: RenderFiles, knownSecrets: Readonly<Record<string, string>>): string[] {
  const findings: string[] = [];
  for (const r of resourceEntries(files)) {
    for (const path of credentialInputs[r.type] ?? []) {
      for (const value of valuesAt(r.inputs, path.split("."))) {
        if (value !== secretPlaceholder) findings.push(`${r.urn}: ${path} is not a secret`);
      }
    }
  }
  for (const [name, value] of Object.entries(knownSecrets)) {
    const prefix = value.slice(0, Math.min(value.length, leakPrefixLength));
    for (const [path, content] of files) {
      if (content.includes(value)) findings.push(`${path}: contains the value of ${name}`);
      else if (content.includes(prefix))
        findings.push(`${path}: contains the first ${prefix.length} characters of ${name}`);
      // Credentials often travel base64-encoded (kubeconfig, dockerconfigjson).
      else if (content.includes(Buffer.from(value).toString("base64").slice(0, 16)))
        findings.push(`${path}: contains ${name} base64-encoded`);
    }
  }
  return findings;
}
