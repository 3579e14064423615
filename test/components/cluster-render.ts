// Test helper: renders the cluster side (CanaryCluster and its parts) under the mock engine from a
// realistic stack configuration, and reads back the Kubernetes objects the way `npm run synth`
// writes them, plus the resource options each registration was given (captured by a stack
// transformation, which the SDK runs in-process, so it works under mocks).
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { parseStackConfig } from "../../config/load";
import { projectName, type StackConfig } from "../../config/schema";
import { CanaryCluster } from "../../components/cluster/canary-cluster";
import {
  clusterOperations,
  clusterTargets,
  operationList,
  type ClusterOperation,
} from "../../components/shared/cluster-operations";
import { smokeTestOperations } from "../../components/shared/smoke-test";
import { artifacts } from "../../synth/artifacts";
import { runProgram, secretMarker, type RegisteredResource } from "../../testing/mock-engine";

export type ClusterAuth = "eks" | "token";

/** A base64 PEM, as `clusterCaData` holds it. */
export const caData = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIBmock\n-----END CERTIFICATE-----\n").toString(
  "base64",
);

/** The dev stack's settings, in either authentication mode. */
export function stackConfig(
  clusterAuth: ClusterAuth,
  overrides: Record<string, unknown> = {},
  secrets = { ghcrPullToken: true },
): StackConfig {
  const raw: Record<string, unknown> = {
    githubOwner: "acme",
    githubRepository: "orders-api",
    awsRegion: "eu-west-1",
    clusterAuth,
    ...(clusterAuth === "eks"
      ? { eksClusterName: "acme-dev" }
      : { clusterEndpoint: "https://api.k8s.example.com:6443", clusterCaData: caData }),
    namespace: "orders-dev",
    appName: "orders-api",
    containerPort: 3000,
    healthPath: "/healthz",
    replicas: 9,
    canaryWeight: 10,
    initialImage: "ghcr.io/acme/orders-api:1.4.2",
    smokePaths: ["/healthz", "/v1/orders?limit=1"],
    smokeMaxLatencySeconds: "1.5",
    ...overrides,
  };
  return parseStackConfig(raw, "dev", { ghcrPullToken: secrets.ghcrPullToken, slackWebhook: false });
}

/** What a canary/promote pipeline runs: release both Deployments, scale the canary, check it. */
export function pipelineOperations(config: StackConfig, canaryReplicas: number): ClusterOperation[] {
  const t = clusterTargets(config);
  return [
    clusterOperations.setImage(t, t.canaryDeployment, '"$IMAGE"'),
    clusterOperations.scale(t, t.canaryDeployment, canaryReplicas),
    clusterOperations.rolloutStatus(t, t.canaryDeployment, "300s"),
    clusterOperations.canaryPodImages(t),
    ...operationList(
      smokeTestOperations({
        targets: t,
        podName: t.smokeTestPod,
        appName: config.appName,
        paths: config.smokePaths,
        maxLatencySeconds: config.smokeMaxLatencySeconds,
      }),
    ),
    clusterOperations.setImage(t, t.stableDeployment, '"$IMAGE"'),
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
export async function renderCluster(
  config: StackConfig,
  extra: {
    ghcrPullToken?: string;
    eksGroup?: string;
    preview?: boolean;
    rollback?: { operations: ClusterOperation[]; group?: string };
    home?: string;
  } = {},
): Promise<ClusterRender> {
  const operations = pipelineOperations(config, 1);
  const captured: CapturedOptions[] = [];
  let cluster: CanaryCluster | undefined;
  const program = () => {
    pulumi.runtime.registerStackTransformation((args) => {
      captured.push({ type: args.type, name: args.name, opts: args.opts });
      return undefined;
    });
    cluster = new CanaryCluster("orders", {
      config,
      operations,
      ...(extra.ghcrPullToken !== undefined ? { ghcrPullToken: pulumi.secret(extra.ghcrPullToken) } : {}),
      ...(extra.eksGroup !== undefined ? { eksGroup: extra.eksGroup } : {}),
      ...(extra.preview ? { preview: true } : {}),
      ...(extra.rollback
        ? {
            rollbackOperations: extra.rollback.operations,
            ...(extra.rollback.group !== undefined ? { rollbackGroup: extra.rollback.group } : {}),
          }
        : {}),
    });
    return {
      namespace: cluster.namespaceName,
      ...(cluster.kubeconfig ? { kubeconfig: cluster.kubeconfig } : {}),
      ...(cluster.deployerGroup ? { deployerGroup: cluster.deployerGroup } : {}),
      ...(cluster.previewKubeconfig ? { previewKubeconfig: cluster.previewKubeconfig } : {}),
      ...(cluster.rollbackKubeconfig ? { rollbackKubeconfig: cluster.rollbackKubeconfig } : {}),
    };
  };
  const { resources, outputs } = await runProgram({
    project: projectName,
    stack: "dev",
    config: {},
    secretKeys: [],
    program,
    ...(extra.home ? { home: extra.home } : {}),
  });
  const files = artifacts(resources);
  const objects = new Map<string, Record<string, unknown>>();
  for (const [path, content] of files) {
    if (path.startsWith("kubernetes/"))
      objects.set(path.slice("kubernetes/".length, -".yaml".length), parse(content) as Record<string, unknown>);
  }
  return {
    config,
    operations,
    cluster: cluster!,
    resources,
    outputs,
    files,
    objects,
    captured,
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

/** The pod spec of a rendered object: a Deployment's template, a CronJob's Job's, or a Pod's own; none otherwise. */
export function podSpecs(object: Record<string, unknown>): Record<string, unknown>[] {
  const spec = object.spec as {
    template?: { spec?: Record<string, unknown> };
    jobTemplate?: { spec?: { template?: { spec?: Record<string, unknown> } } };
  } & Record<string, unknown>;
  if (object.kind === "Pod") return [spec];
  if (object.kind === "Deployment" && spec.template?.spec) return [spec.template.spec];
  if (object.kind === "CronJob" && spec.jobTemplate?.spec?.template?.spec) return [spec.jobTemplate.spec.template.spec];
  return [];
}

/**
 * Why a pod spec would not pass the `restricted` Pod Security Standard (and this project's extra
 * rules: read-only root, no API token unless `apiToken`: a pod that calls the API server mounts
 * its account's token explicitly); empty when it passes.
 */
export function restrictedProblems(spec: Record<string, unknown>, { apiToken = false } = {}): string[] {
  type SecurityContext = {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type?: string };
  };
  type Container = {
    name: string;
    securityContext?: SecurityContext;
    resources?: { requests?: object; limits?: object };
  };
  const pod = spec as {
    securityContext?: SecurityContext;
    containers?: Container[];
    initContainers?: Container[];
    automountServiceAccountToken?: boolean;
    hostNetwork?: boolean;
    hostPID?: boolean;
    hostIPC?: boolean;
    volumes?: Record<string, unknown>[];
  };
  const problems: string[] = [];
  const podContext = pod.securityContext ?? {};
  if (pod.automountServiceAccountToken !== apiToken)
    problems.push(`automountServiceAccountToken is not ${String(apiToken)}`);
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push("uses a host namespace");
  for (const v of pod.volumes ?? [])
    if (!("emptyDir" in v || "secret" in v || "configMap" in v || "projected" in v))
      problems.push(`volume ${String(v.name)} is not an allowed type`);
  if (podContext.runAsUser === 0) problems.push("pod runs as uid 0");
  for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
    const s = c.securityContext ?? {};
    if ((s.runAsNonRoot ?? podContext.runAsNonRoot) !== true) problems.push(`${c.name}: runAsNonRoot is not true`);
    if ((s.runAsUser ?? podContext.runAsUser) === 0) problems.push(`${c.name}: runs as uid 0`);
    if (s.allowPrivilegeEscalation !== false) problems.push(`${c.name}: allowPrivilegeEscalation is not false`);
    if (s.privileged) problems.push(`${c.name}: privileged`);
    if (!s.capabilities?.drop?.includes("ALL")) problems.push(`${c.name}: capabilities do not drop ALL`);
    if ((s.capabilities?.add ?? []).some((a) => a !== "NET_BIND_SERVICE"))
      problems.push(`${c.name}: adds capabilities`);
    const seccomp = s.seccompProfile?.type ?? podContext.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost")
      problems.push(`${c.name}: seccomp profile is not RuntimeDefault`);
    if (s.readOnlyRootFilesystem !== true) problems.push(`${c.name}: root filesystem is writable`);
    if (!c.resources?.requests || !c.resources.limits) problems.push(`${c.name}: no requests and limits`);
  }
  return problems;
}

/**
 * Parses a property path as the Pulumi engine does for ignoreChanges (a port of ParsePropertyPath,
 * pulumi/pulumi sdk/go/common/resource/properties_path.go): `name`, `.name`, `["key"]`, `[0]`,
 * `[*]`. Throws where the engine would refuse the path.
 */
export function parsePropertyPath(path: string): (string | number)[] {
  const elements: (string | number)[] = [];
  let rest = path;
  while (rest.length > 0) {
    if (rest.startsWith(".")) {
      rest = rest.slice(1);
    } else if (rest.startsWith("[")) {
      if (rest[1] === '"') {
        let key = "";
        let i = 2;
        for (;;) {
          if (i >= rest.length) throw new Error("missing closing quote in property name");
          if (rest[i] === '"') {
            i++;
            break;
          }
          if (rest[i] === "\\" && rest[i + 1] === '"') {
            key += '"';
            i += 2;
          } else {
            key += rest[i];
            i++;
          }
        }
        if (rest[i] !== "]") throw new Error("missing closing bracket in property access");
        elements.push(key);
        rest = rest.slice(i + 1);
      } else {
        const close = rest.indexOf("]");
        if (close === -1) throw new Error("missing closing bracket in array index");
        const segment = rest.slice(1, close);
        if (segment === "*") elements.push("*");
        else if (/^[+-]?\d+$/.test(segment)) elements.push(Number(segment));
        else throw new Error(`invalid array index ${segment}`);
        rest = rest.slice(close + 1);
      }
    } else {
      const end = rest.search(/[.[]/);
      const name = end === -1 ? rest : rest.slice(0, end);
      elements.push(name);
      rest = end === -1 ? "" : rest.slice(end);
    }
  }
  return elements;
}

/** The value a parsed path addresses in some inputs, as PropertyPath.Get does (undefined: absent). */
export function valueAt(inputs: unknown, path: (string | number)[]): unknown {
  let value = inputs;
  for (const key of path) {
    if (Array.isArray(value)) {
      if (typeof key !== "number" || key < 0 || key >= value.length) return undefined;
      value = value[key];
    } else if (value !== null && typeof value === "object") {
      if (typeof key !== "string" || !Object.hasOwn(value, key)) return undefined;
      value = (value as Record<string, unknown>)[key];
    } else {
      return undefined;
    }
  }
  return value;
}

/** Inputs with the secret markers removed: the object as the API server would receive it. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== "object") return value;
  if (secretMarker in value) return unwrapSecrets((value as Record<string, unknown>)[secretMarker]);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
}
