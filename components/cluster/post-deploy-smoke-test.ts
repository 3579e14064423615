// The smoke test after `pulumi up`: the same runner the pipeline's canary job runs
// (components/shared/smoke-test.ts), started by a local command whenever the workloads change. kubectl
// uses the ambient context of whoever runs `pulumi up`. The command does not run during preview
// (pulumi-command docs, `local.Command`).
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { smokeTestRunner, type SmokeTestSpec } from "../shared/smoke-test";

export interface PostDeploySmokeTestArgs {
  /** What to test: the same definition the pipeline runs. Required. */
  readonly spec: SmokeTestSpec;
  /**
   * Values whose change reruns the test: the workloads' specs. Keep secrets out: they are stored
   * with the command and shown in its diff. Required.
   */
  readonly triggers: pulumi.Input<unknown>[];
  /** What must be in place first: the Deployments and Services. Required. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
  /**
   * Extra environment for kubectl, such as KUBECONFIG (a path). Default: none. The runner prints
   * its report only; nothing here is echoed.
   */
  readonly environment?: Record<string, pulumi.Input<string>>;
}

/** Runs the in-cluster smoke test from `pulumi up` when the workloads change. */
export class PostDeploySmokeTest extends pulumi.ComponentResource {
  readonly command: command.local.Command;
  /** The runner's report (one line per request, then RESULT). */
  readonly report: pulumi.Output<string>;

  constructor(name: string, args: PostDeploySmokeTestArgs, opts?: pulumi.ComponentResourceOptions) {
    super("canary-pipeline:kubernetes:PostDeploySmokeTest", name, {}, opts);
    const runner = smokeTestRunner(args.spec);
    this.command = new command.local.Command(`${name}-command`, {
      // The runner relies on bash (pipefail); the default interpreter is /bin/sh.
      interpreter: ["/bin/bash", "-c"],
      create: runner,
      update: runner,
      // A changed trigger replaces the command, which runs `create` again.
      triggers: args.triggers,
      ...(args.environment ? { environment: args.environment } : {}),
    }, { parent: this, dependsOn: args.dependsOn });
    this.report = this.command.stdout;
    this.registerOutputs({ report: this.report });
  }
}
