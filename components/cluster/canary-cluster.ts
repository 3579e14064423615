// The cluster side of the delivery path, from the stack's settings: the namespace, the deployer
// identity, the image-pull Secret, the workload, the reaper of expired canaries, the smoke test
// after `pulumi up`, the rollback job's identity and the preview's read-only identity, all
// declared through one client-side-apply provider (docs/cluster.md,
// "Release ownership") whose kubeconfig names the settings' cluster ("Which cluster").
import * as pulumi from "@pulumi/pulumi";
import { AppNamespace } from "./app-namespace";
import { canarySplit } from "../shared/canary-split";
import { CanaryReaper } from "./canary-reaper";
import * as k8s from "@pulumi/kubernetes";
import { argoRolloutsCrds, rolloutPlan } from "../shared/argo-rollout";
import { CanaryRollout } from "./canary-rollout";
import { CanaryWorkload } from "./canary-workload";
import { checkedInput } from "../shared/checked-input";
import { ClientSideApplyProvider, clusterProvider, kubeconfigProblem } from "./client-side-apply-provider";
import { kubeconfigContents } from "./cluster-kubeconfig";
import { ClusterDeployer } from "./cluster-deployer";
import { ClusterRollbacker, defaultRollbackGroup } from "./cluster-rollbacker";
import { DeployerPodPolicy, serviceAccountUsername } from "./deployer-pod-policy";
import { imageName } from "../shared/image-name";
import { claimService, clusterIdentity } from "../shared/service-claims";
import { ClusterViewer, defaultPreviewGroup } from "./cluster-viewer";
import { type DeclaredObject } from "../shared/rbac-rules";
import { ImagePullSecret } from "./image-pull-secret";
import { PostDeploySmokeTest } from "./post-deploy-smoke-test";
import {
  checkCanaryClusterArgs,
  clusterKubeconfig,
  deployerOperations,
  restingSmokeTestSpec,
  type CanaryClusterArgs,
} from "./canary-cluster-args";

export {
  clusterKubeconfig,
  deployerOperations,
  restingSmokeTestSpec,
  type CanaryClusterArgs,
} from "./canary-cluster-args";

/** Everything of the service inside the cluster. */
export class CanaryCluster extends pulumi.ComponentResource {
  readonly provider: ClientSideApplyProvider;
  readonly namespace?: AppNamespace;
  readonly deployer: ClusterDeployer;
  /** Refuses every pod the deployer creates but the pipeline's own. */
  readonly deployerPodPolicy: DeployerPodPolicy;
  readonly imagePullSecret?: ImagePullSecret;
  /** The service: two Deployments (canaryEngine pipeline) or a Rollout (argo-rollouts). */
  readonly workload: CanaryWorkload | CanaryRollout;
  /** canaryEngine argo-rollouts: the controller's CRDs, read to check it is installed. */
  readonly argoRolloutsCrds?: k8s.apiextensions.v1.CustomResourceDefinition[];
  /** canaryEngine pipeline: scales an expired canary to 0, whether or not the run that deployed it is still there. */
  readonly reaper?: CanaryReaper;
  readonly smokeTest?: PostDeploySmokeTest;
  /** The namespace's name (an Output of the Namespace when this component creates it). */
  readonly namespaceName: pulumi.Output<string>;
  /** clusterAuth token: the deployer's kubeconfig, secret. */
  readonly kubeconfig?: pulumi.Output<string>;
  /** clusterAuth eks: the Kubernetes group the access entry must map the deploy role to. */
  readonly deployerGroup?: string;
  /** With rollbackOperations: the identity of the rollback job, which may only scale the canary to 0. */
  readonly rollbacker?: ClusterRollbacker;
  /** With rollbackOperations, clusterAuth token: the rollback identity's kubeconfig, secret (for the rollback environment). */
  readonly rollbackKubeconfig?: pulumi.Output<string>;
  /** With rollbackOperations, clusterAuth eks: the group the rollback role's access entry must map to. */
  readonly rollbackerGroup?: string;
  /** With preview: the read-only identity of `pulumi preview`. */
  readonly viewer?: ClusterViewer;
  /** With preview, clusterAuth token: the preview's kubeconfig, secret (for the preview workflow). */
  readonly previewKubeconfig?: pulumi.Output<string>;
  /** With preview, clusterAuth eks: the group the preview role's access entry must map to. */
  readonly previewerGroup?: string;
  /** Canary pods during a release: canarySplit(replicas, canaryWeight). */
  readonly canaryReplicas: number;

  constructor(name: string, args: CanaryClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    const c = args.config;
    // Checked before anything is registered: an error inside async work would reach every
    // resource that reads the value.
    const { holder, names, optionsKubernetes, location } = checkCanaryClusterArgs(name, args, opts);
    const { eksClusterName, clusterEndpoint, clusterCaData } = location;
    // One service per app name and namespace on a cluster in this program (CanaryPipeline claims for its own).
    const claim = claimService(
      {
        cluster: clusterIdentity(
          { provider: args.provider ?? optionsKubernetes, kubeconfig: args.kubeconfig },
          { clusterAuth: c.clusterAuth, awsRegion: c.awsRegion, eksClusterName, clusterEndpoint },
        ),
        namespace: c.namespace,
        appName: c.appName,
        createsNamespace: c.createNamespace,
      },
      names,
      opts?.parent,
    );
    // With preview: every Kubernetes object declared below, at any depth (a transformation sees
    // each descendant as it is constructed), for the preview's Role.
    const declared: DeclaredObject[] = [];
    const record: pulumi.ResourceTransformation = ({ type, props, opts: resourceOpts }) => {
      // A read (`.get`, such as the controller's CRDs) has no properties: its id is its name.
      const objectName = resourceOpts.id ?? (props.metadata as { name?: unknown } | undefined)?.name;
      if (type.startsWith("kubernetes:")) {
        if (typeof objectName !== "string")
          throw new Error(
            `CanaryCluster ${name}: a ${type} without a plain metadata.name: the preview's Role names each object`,
          );
        declared.push({ type, name: objectName });
      }
      return undefined;
    };
    super(
      "canary-pipeline:kubernetes:CanaryCluster",
      name,
      {},
      args.preview ? { ...opts, transformations: [...(opts?.transformations ?? []), record] } : opts,
    );
    claim.owner ??= this;
    this.canaryReplicas = canarySplit(c.replicas, c.canaryWeight).canaryReplicas;

    // The kubeconfig of the component's own provider, when it makes one: the one given, else the settings'.
    let ownKubeconfig: pulumi.Input<string> | undefined;
    this.provider = clusterProvider(this, args.provider, holder, () => {
      ownKubeconfig =
        args.kubeconfig !== undefined
          ? checkedInput(args.kubeconfig, {
              holder,
              propertyPath: "kubeconfig",
              problem: kubeconfigProblem,
              secret: true,
              component: () => this,
            })
          : clusterKubeconfig(this, c, location, names);
      return new ClientSideApplyProvider(`${name}-kubernetes`, { kubeconfig: ownKubeconfig }, { parent: this });
    });
    const child = { parent: this };
    const provider = this.provider;

    if (c.createNamespace) {
      this.namespace = new AppNamespace(
        `${name}-namespace`,
        { name: c.namespace, appName: c.appName, provider },
        child,
      );
    }
    // Through the Namespace's output, everything inside waits for it.
    const namespace = this.namespace?.name ?? pulumi.output(c.namespace);
    this.namespaceName = namespace;

    // clusterAuth token: the smoke test after `pulumi up` runs as the deployer, so its Role covers it.
    const smokeAsDeployer = c.smokeTestOnUp && c.clusterAuth === "token";
    const operations = deployerOperations(c, args.operations);
    const common = { appName: c.appName, namespace, operations, provider };
    this.deployer = new ClusterDeployer(
      `${name}-deployer`,
      c.clusterAuth === "token"
        ? { ...common, clusterAuth: "token", clusterEndpoint: clusterEndpoint!, clusterCaData: clusterCaData! }
        : { ...common, clusterAuth: "eks", ...(args.eksGroup !== undefined ? { eksGroup: args.eksGroup } : {}) },
      child,
    );
    this.kubeconfig = this.deployer.kubeconfig;
    this.deployerGroup = this.deployer.group;
    // RBAC lets the deployer create any pod (create cannot be limited by name): the policy admits
    // only the pods its operations create, in their exact shape.
    this.deployerPodPolicy = new DeployerPodPolicy(
      `${name}-deployer-pods`,
      {
        appName: c.appName,
        namespace: c.namespace,
        operations,
        provider,
        image: imageName(c),
        initialImage: c.initialImage,
        deployer:
          this.deployer.group !== undefined
            ? { group: this.deployer.group }
            : { username: serviceAccountUsername(c.namespace, `${c.appName}-deployer`) },
        ...(c.canaryEngine === "argo-rollouts"
          ? {
              workload: "rollouts" as const,
              ...(args.rollbackOperations !== undefined
                ? {
                    rollbacker:
                      c.clusterAuth === "token"
                        ? { username: serviceAccountUsername(c.namespace, `${c.appName}-rollback`) }
                        : { group: args.rollbackGroup ?? defaultRollbackGroup(c.appName) },
                  }
                : {}),
            }
          : {}),
      },
      child,
    );

    if (args.ghcrPullToken !== undefined) {
      this.imagePullSecret = new ImagePullSecret(
        `${name}-ghcr-pull`,
        {
          name: `${c.appName}-ghcr-pull`,
          namespace,
          appName: c.appName,
          username: args.ghcrUsername ?? c.githubOwner,
          token: args.ghcrPullToken,
          provider,
        },
        child,
      );
    }

    const workloadArgs = {
      appName: c.appName,
      namespace,
      containerPort: c.containerPort,
      healthPath: c.healthPath,
      livenessPath: c.livenessPath,
      replicas: c.replicas,
      initialImage: c.initialImage,
      minReadySeconds: c.minReadySeconds,
      startupSeconds: c.startupSeconds,
      provider,
      ...(c.networkPolicyIngress !== undefined ? { networkPolicyIngress: c.networkPolicyIngress } : {}),
      ...(this.imagePullSecret ? { imagePullSecret: this.imagePullSecret.secretName } : {}),
    };
    if (c.canaryEngine === "argo-rollouts") {
      // The controller is the cluster's, installed beforehand: its CRDs are read (also by a
      // preview), so that a cluster without them fails before anything is created, naming them.
      // The Rollout's first and the others after it: without the controller the failure always
      // names rollouts.argoproj.io (reads side by side fail in whichever order they end).
      const [first, ...others] = argoRolloutsCrds;
      const read = (crd: string, after: pulumi.Resource[]) =>
        // Through the stack's own provider: the settings' cluster, never the ambient kubeconfig's.
        k8s.apiextensions.v1.CustomResourceDefinition.get(`${name}-requires-${crd}`, crd, {
          ...child,
          provider,
          dependsOn: after,
        });
      const rollouts = read(first, []);
      this.argoRolloutsCrds = [rollouts, ...others.map((crd) => read(crd, [rollouts]))];
      this.workload = new CanaryRollout(
        `${name}-workload`,
        { ...workloadArgs, plan: args.rolloutPlan ?? rolloutPlan(c) },
        { ...child, dependsOn: this.argoRolloutsCrds },
      );
    } else {
      this.workload = new CanaryWorkload(`${name}-workload`, workloadArgs, child);
      // The controller expires a Rollout's canary itself (its approval pause ends).
      this.reaper = new CanaryReaper(`${name}-reaper`, { appName: c.appName, namespace, provider }, child);
    }

    if (c.smokeTestOnUp) {
      const w = this.workload;
      // The settings' cluster, never the ambient context: token, as the deployer (its kubeconfig);
      // eks, with the kubeconfig of the component's own provider, else the settings' one.
      const kubeconfig = smokeAsDeployer
        ? this.deployer.kubeconfig!
        : ownKubeconfig !== undefined
          ? pulumi.output(ownKubeconfig).apply((k) => kubeconfigContents(k))
          : clusterKubeconfig(this, c, location, names);
      this.smokeTest = new PostDeploySmokeTest(
        `${name}-smoke-test`,
        {
          spec: restingSmokeTestSpec(c),
          kubeconfig,
          // The declared specs: a release (which a refresh brings into the objects' outputs) is not a change.
          triggers: w.declaredSpecs,
          dependsOn: [
            ...(w instanceof CanaryRollout ? [w.rollout, w.stableService] : [w.stable, w.canary]),
            w.mainService,
            w.canaryService,
            ...(smokeAsDeployer ? [this.deployer.roleBinding] : []),
          ],
        },
        child,
      );
    }

    // Declared before the viewer: the preview refreshes these objects too.
    if (args.rollbackOperations !== undefined) {
      this.rollbacker = new ClusterRollbacker(
        `${name}-rollback`,
        {
          appName: c.appName,
          namespace,
          operations: args.rollbackOperations,
          provider,
          subject:
            c.clusterAuth === "token"
              ? { clusterAuth: "token", clusterEndpoint: clusterEndpoint!, clusterCaData: clusterCaData! }
              : { clusterAuth: "eks", group: args.rollbackGroup ?? defaultRollbackGroup(c.appName) },
        },
        child,
      );
      this.rollbackKubeconfig = this.rollbacker.kubeconfig;
      this.rollbackerGroup = this.rollbacker.group;
    }

    if (args.preview) {
      this.viewer = new ClusterViewer(
        `${name}-viewer`,
        {
          appName: c.appName,
          namespace,
          namespaceName: c.namespace,
          objects: declared,
          provider,
          subject:
            c.clusterAuth === "token"
              ? // The preview's kubeconfig names its context as the provider's credential looks it up.
                {
                  clusterAuth: "token",
                  clusterEndpoint: clusterEndpoint!,
                  clusterCaData: clusterCaData!,
                  ...(c.kubeconfigContext !== undefined ? { contextName: c.kubeconfigContext } : {}),
                }
              : { clusterAuth: "eks", group: args.previewGroup ?? defaultPreviewGroup(c.appName) },
        },
        child,
      );
      this.previewKubeconfig = this.viewer.kubeconfig;
      this.previewerGroup = this.viewer.group;
    }

    this.registerOutputs({
      namespace: this.namespaceName,
      kubeconfig: this.kubeconfig,
      deployerGroup: this.deployerGroup,
      canaryReplicas: this.canaryReplicas,
      rollbackKubeconfig: this.rollbackKubeconfig,
      rollbackerGroup: this.rollbackerGroup,
      previewKubeconfig: this.previewKubeconfig,
      previewerGroup: this.previewerGroup,
    });
  }
}
