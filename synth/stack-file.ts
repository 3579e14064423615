// Reads a stack file (Pulumi.<stack>.yaml) into the settings the CLI would hand the program.
// `secure:` values cannot be decrypted offline: they become placeholders, still marked secret.
import { readFileSync } from "node:fs";
import { parse } from "yaml";

export interface StackSettings {
  /** Values by qualified key (`canary-pipeline:replicas`), as strings the way the CLI passes them. */
  readonly config: Record<string, string>;
  /** Qualified keys whose values are secret. */
  readonly secretKeys: string[];
}

/** The placeholder rendered for an encrypted value. */
export const securePlaceholder = (key: string) => `<secure ${key}>`;

export function readStackFile(file: string): StackSettings {
  const document = parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  return stackSettings(document?.config ?? {});
}

export function stackSettings(values: Record<string, unknown>): StackSettings {
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value !== null && typeof value === "object" && "secure" in value) {
      config[key] = securePlaceholder(key);
      secretKeys.push(key);
    } else {
      config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { config, secretKeys };
}
