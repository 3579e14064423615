// The whole delivery path of one service, from one Args object: the AWS trust, the cluster side
// and the repository side. The building blocks it composes stay usable on their own.
import * as pulumi from "@pulumi/pulumi";
import type { SecretKey, StackConfig } from "../config/schema";

export interface CanaryPipelineArgs {
  /** The validated settings of the service's environment (config/schema.ts documents each). */
  readonly config: StackConfig;
  /** The optional secrets that are configured, each kept secret end to end. */
  readonly secrets: Partial<Record<SecretKey, pulumi.Input<string>>>;
}

export class CanaryPipeline extends pulumi.ComponentResource {
  constructor(name: string, args: CanaryPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("canary-pipeline:index:CanaryPipeline", name, {}, opts);
    void args;
    // AWS: OIDC provider and roles (trust subjects from the workflows' jobs).
    // Cluster: namespace, deployer identity, workloads, smoke test after `pulumi up`.
    // Repository: environment, secrets, variables, workflow files.
    this.registerOutputs({});
  }
}
