// The offline render: runs a program under the mock engine with a stack's settings and returns
// every artifact. Tests and `npm run synth` share it.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ConfigError } from "../config/errors";
import { projectName } from "../config/schema";
import { artifacts } from "./artifacts";
import { runProgram, type RegisteredResource } from "../testing/mock-engine";
import type { StackSettings } from "../config/stack-file";
import { summary } from "./summary";

export interface Render {
  readonly stack: string;
  readonly resources: RegisteredResource[];
  readonly outputs: Record<string, unknown>;
  /** Every file, by its path under the output folder. */
  readonly files: Map<string, string>;
}

export interface RenderOptions {
  readonly stack: string;
  readonly settings: StackSettings;
  /** The program to run; default: this project's index.ts. */
  readonly program?: () => unknown;
  /** Receives each registration as it happens, also when the program then fails. */
  readonly registrations?: RegisteredResource[];
}

async function stackProgram(): Promise<() => unknown> {
  return (await import("../index")).default;
}

/** Renders a stack. A configuration mistake rejects with ConfigError before anything registers. */
export async function renderStack(options: RenderOptions): Promise<Render> {
  const program = options.program ?? (await stackProgram());
  const { resources, outputs } = await runProgram({
    project: projectName,
    stack: options.stack,
    config: options.settings.config,
    secretKeys: options.settings.secretKeys,
    program,
    ...(options.registrations ? { registrations: options.registrations } : {}),
  });
  return { stack: options.stack, resources, outputs, files: renderFiles(options.stack, resources) };
}

/** Every file of a render, from what the program registered. */
export function renderFiles(stack: string, resources: RegisteredResource[]): Map<string, string> {
  const files = artifacts(resources);
  files.set("summary.md", summary(stack, resources, files));
  return files;
}

/** Writes a render into `dir`, replacing what an earlier render left there. */
export function writeRender(render: Render, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  for (const [path, content] of [...render.files].sort(([a], [b]) => a.localeCompare(b))) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

export { ConfigError };
