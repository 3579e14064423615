// `canary-pipeline/testing`: unit-test a program that uses the components, offline, under Pulumi's
// mock engine with the mocks this project tests itself with (testing/mock-engine.ts). Built to
// dist/testing/ beside the library (tsconfig.build.json); docs/library.md shows its use.
import { runProgram as runUnderMocks, type RegisteredResource } from "./mock-engine";

export {
  mockAccount,
  mockServiceAccountToken,
  mocks,
  secretMarker,
  type RegisteredAlias,
  type RegisteredResource,
} from "./mock-engine";

/** What {@link runProgram} runs, and as which stack. */
export interface RunProgramArgs {
  /**
   * Required. The program: declares resources as a stack's entry point does, and returns (or resolves to)
   * the stack's outputs. A module that declares resources at its top must be imported inside it
   * (`program: () => import("./index")`): imported before, its resources would register before
   * the mocks are in place.
   */
  readonly program: () => unknown;
  /** The Pulumi project's name. Default: `"test"`. */
  readonly project?: string;
  /** The stack's name (a `CanaryPipeline`'s default `stack`). Default: `"test"`. */
  readonly stack?: string;
  /**
   * The stack's configuration by qualified key (`"aws:region"`, `"<project>:slackWebhook"`),
   * values as the CLI passes them (strings; objects and lists as JSON). Default: none.
   */
  readonly config?: Readonly<Record<string, string>>;
  /** The keys of `config` whose values are secret (`pulumi.Config.requireSecret` reads them). Default: none. */
  readonly secretKeys?: readonly string[];
}

/** What the program registered, and its outputs. */
export interface RunProgramResult {
  /**
   * Every resource registered, the root stack included, sorted by URN (named as the engine names
   * them): type, name, parent, dependencies, provider and inputs as sent, each secret input wrapped
   * as `{ [secretMarker]: value }`.
   */
  readonly resources: readonly RegisteredResource[];
  /** The stack's outputs, resolved: plain values, secrets unwrapped. */
  readonly outputs: Readonly<Record<string, unknown>>;
}

/**
 * Runs `program` as the root of a stack under Pulumi's mock engine and returns what it registered
 * and its outputs. Providers' computed values are mocked: ids, the IAM ARNs the components read,
 * a ServiceAccount token Secret's `data.token` ({@link mockServiceAccountToken}, so a token-mode
 * kubeconfig resolves), and the invokes the components make (`aws:eks/getCluster:getCluster`,
 * `github:index/getUser:getUser`, `github:index/getTeam:getTeam`); any other invoke fails the run,
 * naming it. The program runs with a home directory whose `.kube/config` is a stand-in, never the
 * machine's kubeconfig.
 *
 * It uses the program's own `@pulumi/pulumi` (the package's peer dependency: one SDK per program,
 * the one the components register with). A component that refuses its Args, or an Output that
 * fails, rejects the returned promise with that error. Await each run before the next: runs one
 * after another in a process are independent.
 */
export async function runProgram(args: RunProgramArgs): Promise<RunProgramResult> {
  return runUnderMocks({
    project: args.project ?? "test",
    stack: args.stack ?? "test",
    config: { ...args.config },
    secretKeys: [...(args.secretKeys ?? [])],
    program: args.program,
  });
}
