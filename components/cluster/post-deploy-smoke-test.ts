// The smoke test after `pulumi up`: the same runner the pipeline's canary job runs
// (components/shared/smoke-test.ts: components/scripts/smoke-test-runner.sh with its preamble and
// parameters), started by a local command whenever the workloads change.
// kubectl never uses the ambient context of whoever runs `pulumi up`: the command receives the
// stack's own cluster's kubeconfig as a secret environment value and writes it to a private
// temporary file for KUBECONFIG (withKubeconfig). The command does not run during preview
// (pulumi-command docs, `local.Command`).
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { smokeTestRunner, type SmokeTestSpec } from "../shared/smoke-test";

/** The environment variable the command receives the kubeconfig's contents in. */
export const smokeTestKubeconfigVariable = "SMOKE_TEST_KUBECONFIG";

/**
 * `script`, run with KUBECONFIG naming a file that holds $SMOKE_TEST_KUBECONFIG, removed on exit.
 * mktemp creates the file readable by its owner only (coreutils: mode 0600); the variable is
 * unset before the script runs. The script runs in a subshell, so its own EXIT trap (the runner's
 * removes its pod) does not replace the one that removes the file.
 */
export function withKubeconfig(script: string): string {
  const variable = smokeTestKubeconfigVariable;
  return [
    "set -euo pipefail",
    `: "\${${variable}:?the kubeconfig of the cluster the settings name is missing}"`,
    'KUBECONFIG="$(mktemp)"',
    "trap 'rm -f \"$KUBECONFIG\"' EXIT",
    `printf '%s\\n' "$${variable}" > "$KUBECONFIG"`,
    `unset ${variable}`,
    "export KUBECONFIG",
    "(",
    script,
    ")",
  ].join("\n");
}

export interface PostDeploySmokeTestArgs {
  /** What to test: the same definition the pipeline runs. Required. */
  readonly spec: SmokeTestSpec;
  /** The contents of the kubeconfig of the stack's cluster; kept secret. Required. */
  readonly kubeconfig: pulumi.Input<string>;
  /**
   * Values whose change reruns the test: the workloads' specs. Keep secrets out: they are stored
   * with the command and shown in its diff. Required.
   */
  readonly triggers: pulumi.Input<unknown>[];
  /** What must be in place first: the Deployments and Services. Required. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
  /** Extra environment for kubectl. Default: none. The runner prints its report only; nothing here is echoed. */
  readonly environment?: Record<string, pulumi.Input<string>>;
}

/** Runs the in-cluster smoke test from `pulumi up` when the workloads change. */
export class PostDeploySmokeTest extends pulumi.ComponentResource {
  readonly command: command.local.Command;
  /** The runner's report (one line per request, then RESULT). */
  readonly report: pulumi.Output<string>;

  constructor(name: string, args: PostDeploySmokeTestArgs, opts?: pulumi.ComponentResourceOptions) {
    super("canary-pipeline:kubernetes:PostDeploySmokeTest", name, {}, opts);
    const script = withKubeconfig(smokeTestRunner(args.spec));
    this.command = new command.local.Command(
      `${name}-command`,
      {
        // The runner relies on bash (pipefail); the default interpreter is /bin/sh.
        interpreter: ["/bin/bash", "-c"],
        create: script,
        update: script,
        // A changed trigger replaces the command, which runs `create` again.
        triggers: args.triggers,
        environment: { ...args.environment, [smokeTestKubeconfigVariable]: pulumi.secret(args.kubeconfig) },
      },
      { parent: this, dependsOn: args.dependsOn },
    );
    this.report = this.command.stdout;
    this.registerOutputs({ report: this.report });
  }
}
