// The stack: reads and validates this environment's configuration, then declares the service's
// whole delivery path. No resource logic lives here.
import type * as pulumi from "@pulumi/pulumi";
import { stackSettingNames } from "./config/errors";
import { loadStackConfig, secretSetting } from "./config/load";
import { secretSettings, type SecretKey } from "./config/schema";
import { CanaryPipeline } from "./components/canary-pipeline";

/**
 * The stack's outputs (`pulumi stack output`), one flat object. None is a secret; a value derived
 * from a secret would stay one. A key is absent when the stack has no such thing (token mode has
 * no deploy or rollback role, and names ServiceAccounts where eks mode names groups).
 */
interface StackOutputs {
  /** ARN of the account's GitHub OIDC provider, created by this stack or adopted (oidcProviderArn). Another stack of the account sets its oidcProviderArn to the creating stack's value. */
  oidcProviderArn: pulumi.Output<string>;
  /** ARN of the deploy role (clusterAuth eks): the canary and promote jobs of deploy-<environment>.yml. */
  deployRoleArn?: pulumi.Output<string>;
  /** ARN of the rollback role (clusterAuth eks): the rollback job, which may only scale the canary to 0. */
  rollbackRoleArn?: pulumi.Output<string>;
  /** ARN of the preview role, when a committed workflow previews this stack (infra-preview.yml, drift-<stack>.yml). */
  previewRoleArn?: pulumi.Output<string>;
  /** The GitHub environment the deploy jobs run in. */
  environment: pulumi.Output<string>;
  /** The rollback job's GitHub environment, `<environment>-rollback` (no reviewers). */
  rollbackEnvironment?: pulumi.Output<string>;
  /** This stack's pull-request preview environment, `<stack>-preview`. */
  previewEnvironment?: pulumi.Output<string>;
  /** This stack's drift-check environment, `<stack>-drift`. */
  driftEnvironment?: pulumi.Output<string>;
  /** The service's Kubernetes namespace. */
  namespace: pulumi.Output<string>;
  /** clusterAuth eks: the Kubernetes group of the deploy role's access entry (the deployer). */
  deployerGroup?: string;
  /** clusterAuth token: the deployer's ServiceAccount in the namespace. */
  deployerServiceAccount?: pulumi.Output<string>;
  /** clusterAuth eks: the Kubernetes group of the rollback role's access entry. */
  rollbackerGroup?: string;
  /** clusterAuth token: the rollback identity's ServiceAccount. */
  rollbackerServiceAccount?: pulumi.Output<string>;
  /** clusterAuth eks: the read-only Kubernetes group of the preview role's access entry. */
  previewerGroup?: string;
  /** clusterAuth token: the preview's read-only ServiceAccount. */
  previewerServiceAccount?: pulumi.Output<string>;
}

/** The outputs of a pipeline, without the absent ones. */
function stackOutputs(pipeline: CanaryPipeline): StackOutputs {
  const outputs: StackOutputs = {
    oidcProviderArn: pipeline.oidcProviderArn,
    deployRoleArn: pipeline.deployRoleArn,
    rollbackRoleArn: pipeline.rollbackRoleArn,
    previewRoleArn: pipeline.previewRoleArn,
    environment: pipeline.environment,
    rollbackEnvironment: pipeline.rollbackEnvironment,
    previewEnvironment: pipeline.previewEnvironment,
    driftEnvironment: pipeline.driftEnvironment,
    namespace: pipeline.namespace,
    deployerGroup: pipeline.deployerGroup,
    deployerServiceAccount: pipeline.deployerServiceAccount,
    rollbackerGroup: pipeline.rollbackerGroup,
    rollbackerServiceAccount: pipeline.rollbackerServiceAccount,
    previewerGroup: pipeline.previewerGroup,
    previewerServiceAccount: pipeline.previewerServiceAccount,
  };
  return Object.fromEntries(Object.entries(outputs).filter(([, value]) => value !== undefined)) as StackOutputs;
}

export = () => {
  const config = loadStackConfig();
  const secrets = Object.fromEntries(
    (Object.keys(secretSettings) as SecretKey[]).flatMap((key) =>
      config.secrets[key] ? [[key, secretSetting(key)!]] : [],
    ),
  );
  // The settings are the stack's: a problem the component finds names the stack key.
  const pipeline = new CanaryPipeline(config.appName, { config, secrets, settingNames: stackSettingNames });
  return stackOutputs(pipeline);
};
