// How a deploy job reaches the cluster, as the identity its work needs: kubectl pinned, and the
// identity's role through OIDC (eks) or its kubeconfig from the environment's secret (token).
import { actions, uses } from "../actions";
import { expression } from "../links";
import type { Step } from "../model";
import {
  awsRegionVariable,
  deployRoleVariable,
  eksClusterVariable,
  kubeconfigSecret,
  rollbackKubeconfigSecret,
  rollbackRoleVariable,
} from "../names";
import { bash } from "../steps";
import { deployEnv, type DeployConfig } from "./plan";

/**
 * kubectl on the runner, pinned (within one minor version of the cluster: Kubernetes' skew policy):
 * the version the real tier runs the jobs' scripts with (tools/kubernetes), held equal by a test.
 */
export const kubectlVersion = "v1.36.3";

/** Who a job acts as in the cluster: the deployer, or the rollback identity (it may only scale the canary to 0). */
export interface ClusterIdentity {
  readonly role: string;
  readonly roleVariable: string;
  readonly kubeconfigSecret: string;
}
export const deployer: ClusterIdentity = { role: "deploy", roleVariable: deployRoleVariable, kubeconfigSecret };
export const rollbacker: ClusterIdentity = {
  role: "rollback",
  roleVariable: rollbackRoleVariable,
  kubeconfigSecret: rollbackKubeconfigSecret,
};

/** The kubeconfig file a job writes; the last step of a token-mode job removes it. */
const kubeconfigFile = '"$RUNNER_TEMP/kubeconfig"';

/**
 * Cluster credentials: the identity's role through OIDC (eks), or its kubeconfig from the
 * environment (token). The role's session lasts `sessionSeconds`, as long as the job may run
 * (configure-aws-credentials asks for an hour by default; the EKS tokens kubectl gets are minted
 * from the session each time, so they live as long as it does).
 */
export function clusterCredentials(
  config: Pick<DeployConfig, "clusterAuth">,
  sessionSeconds: number,
  identity: ClusterIdentity = deployer,
): Step[] {
  const install: Step = {
    name: "Install kubectl",
    uses: uses(actions.setupKubectl),
    with: { version: kubectlVersion },
  };
  if (config.clusterAuth === "eks") {
    return [
      install,
      {
        name: `Assume the ${identity.role} role`,
        uses: uses(actions.awsCredentials),
        with: {
          "role-to-assume": expression(`vars.${identity.roleVariable}`),
          "aws-region": expression(`vars.${awsRegionVariable}`),
          "role-duration-seconds": sessionSeconds,
        },
      },
      bash(
        "Write the kubeconfig",
        [
          `kubeconfig=${kubeconfigFile}`,
          'aws eks update-kubeconfig --name "$CLUSTER" --region "$REGION" --kubeconfig "$kubeconfig"',
          deployEnv.kubeconfig.write("$kubeconfig"),
        ].join("\n"),
        { env: { CLUSTER: expression(`vars.${eksClusterVariable}`), REGION: expression(`vars.${awsRegionVariable}`) } },
      ),
    ];
  }
  return [
    install,
    // Written with umask 077 so that no other user of the runner can read it.
    bash(
      "Write the kubeconfig",
      [
        "umask 077",
        `kubeconfig=${kubeconfigFile}`,
        'printf \'%s\\n\' "$KUBECONFIG_DATA" > "$kubeconfig"',
        'chmod 600 "$kubeconfig"',
        deployEnv.kubeconfig.write("$kubeconfig"),
      ].join("\n"),
      { env: { KUBECONFIG_DATA: expression(`secrets.${identity.kubeconfigSecret}`) } },
    ),
  ];
}

/** Removes a token-mode job's kubeconfig, however the job ends. */
export const removeKubeconfig = (config: Pick<DeployConfig, "clusterAuth">): Step[] =>
  config.clusterAuth === "token" ? [bash("Remove the kubeconfig", `rm -f ${kubeconfigFile}`, { if: "always()" })] : [];
