// Test helper: renders the cluster side (CanaryCluster and its parts) under the mock engine from a
// realistic stack configuration, and reads back the Kubernetes objects the way `npm run synth`
// writes them, plus the resource options each registration was given (captured by a stack
// transformation, which the SDK runs in-process, so it works under mocks).
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { parseStackConfig } from "../../config/load";
import { projectName, type StackConfig } from "../../config/schema";
import { CanaryCluster } from "../../components/canary-cluster";
import { clusterOperations, clusterTargets, type ClusterOperation } from "../../components/cluster-operations";
import { smokeTestOperations } from "../../components/smoke-test";
import { artifacts } from "../../synth/artifacts";
import { runProgram, type RegisteredResource } from "../../synth/mock-engine";

export type ClusterAuth = "eks" | "token";

/** A base64 PEM, as `clusterCaData` holds it. */
export const caData = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIBmock\n-----END CERTIFICATE-----\n").toString("base64");

/** The dev stack's settings, in either authentication mode. */
export function stackConfig(clusterAuth: ClusterAuth, overrides: Record<string, unknown> = {}, secrets = { ghcrPullToken: true }): StackConfig {
  const raw: Record<string, unknown> = {
    githubOwner: "acme", githubRepository: "orders-api", awsRegion: "eu-west-1",
    clusterAuth,
    ...(clusterAuth === "eks" ? { eksClusterName: "acme-dev" } : { clusterEndpoint: "https://api.k8s.example.com:6443", clusterCaData: caData }),
    namespace: "orders-dev", appName: "orders-api", containerPort: 3000, healthPath: "/healthz",
    replicas: 9, canaryWeight: 10, initialImage: "ghcr.io/acme/orders-api:1.4.2",
    smokePaths: ["/healthz", "/v1/orders?limit=1"], smokeMaxLatencySeconds: "1.5",
    ...overrides,
  };
  return parseStackConfig(raw, "dev", { ghcrPullToken: secrets.ghcrPullToken, slackWebhook: false, pulumiAccessToken: false });
}

/** What a canary/promote pipeline runs: release both Deployments, scale the canary, check it. */
export function pipelineOperations(config: StackConfig, canaryReplicas: number): ClusterOperation[] {
  const t = clusterTargets(config);
  return [
    clusterOperations.setImage(t, t.canaryDeployment, "\"$IMAGE\""),
    clusterOperations.scale(t, t.canaryDeployment, canaryReplicas),
    clusterOperations.rolloutStatus(t, t.canaryDeployment, "300s"),
    clusterOperations.canaryPodImages(t),
    ...smokeTestOperations(t, "\"$manifest\""),
    clusterOperations.setImage(t, t.stableDeployment, "\"$IMAGE\""),
    clusterOperations.rolloutStatus(t, t.stableDeployment, "600s"),
    clusterOperations.scale(t, t.canaryDeployment, 0),
  ];
}

/** The options a resource was declared with. */
export interface CapturedOptions {
  readonly type: string;
  readonly name: string;
  readonly opts: pulumi.CustomResourceOptions & pulumi.ComponentResourceOptions;
}

export interface ClusterRender {
  readonly config: StackConfig;
  readonly operations: ClusterOperation[];
  readonly cluster: CanaryCluster;
  readonly resources: RegisteredResource[];
  readonly outputs: Record<string, unknown>;
  readonly files: Map<string, string>;
  /** Every rendered Kubernetes object, by its file name under kubernetes/. */
  readonly objects: Map<string, Record<string, unknown>>;
  /** The rendered object `<Kind>.<namespace>.<name>`; throws when absent. */
  readonly object: (id: string) => Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly ofType: (type: string) => RegisteredResource[];
  /** The options a resource was declared with, by its Pulumi name; throws when absent. */
  readonly options: (name: string) => CapturedOptions;
  readonly captured: CapturedOptions[];
}

/** Renders a CanaryCluster named `orders` for a configuration. */
export async function renderCluster(config: StackConfig, extra: { ghcrPullToken?: string; eksGroup?: string } = {}): Promise<ClusterRender> {
  const operations = pipelineOperations(config, 1);
  const captured: CapturedOptions[] = [];
  let cluster: CanaryCluster | undefined;
  const program = () => {
    pulumi.runtime.registerStackTransformation((args) => {
      captured.push({ type: args.type, name: args.name, opts: args.opts });
      return undefined;
    });
    cluster = new CanaryCluster("orders", {
      config, operations,
      ...(extra.ghcrPullToken !== undefined ? { ghcrPullToken: pulumi.secret(extra.ghcrPullToken) } : {}),
      ...(extra.eksGroup !== undefined ? { eksGroup: extra.eksGroup } : {}),
    });
    return { namespace: cluster.namespaceName, ...(cluster.kubeconfig ? { kubeconfig: cluster.kubeconfig } : {}), ...(cluster.deployerGroup ? { deployerGroup: cluster.deployerGroup } : {}) };
  };
  const { resources, outputs } = await runProgram({ project: projectName, stack: "dev", config: {}, secretKeys: [], program });
  const files = artifacts(resources);
  const objects = new Map<string, Record<string, unknown>>();
  for (const [path, content] of files) {
    if (path.startsWith("kubernetes/")) objects.set(path.slice("kubernetes/".length, -".yaml".length), parse(content) as Record<string, unknown>);
  }
  return {
    config, operations, cluster: cluster!, resources, outputs, files, objects, captured,
    object: (id) => {
      const o = objects.get(id);
      if (!o) throw new Error(`kubernetes/${id}.yaml was not rendered; rendered: ${[...objects.keys()].join(", ")}`);
      return o;
    },
    ofType: (type) => resources.filter((r) => r.type === type),
    options: (name) => {
      const c = captured.find((o) => o.name === name);
      if (!c) throw new Error(`no resource named ${name}; declared: ${captured.map((o) => o.name).join(", ")}`);
      return c;
    },
  };
}

/** The pod spec of a rendered object: a Deployment's template, or a Pod's own; none otherwise. */
export function podSpecs(object: Record<string, unknown>): Record<string, unknown>[] {
  const spec = object.spec as { template?: { spec?: Record<string, unknown> } } & Record<string, unknown>;
  if (object.kind === "Pod") return [spec];
  if (object.kind === "Deployment" && spec.template?.spec) return [spec.template.spec];
  return [];
}
