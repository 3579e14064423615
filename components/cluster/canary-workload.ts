// The service itself: a stable and a canary Deployment of the same container behind one Service
// (canary by replica ratio: a Service selects pods by label and kube-proxy picks a backend per
// connection, so the Service selects `app` only, both Deployments' selectors include `track`, and
// both use the same port names), a canary-only Service for the smoke test, a dedicated app
// ServiceAccount without API credentials, a PodDisruptionBudget over the stable track and a
// NetworkPolicy that admits the container port only.
// After the first `pulumi up` the pipeline owns both Deployments' image and the canary's replica
// count: they are declared through a client-side-apply provider and ignored on later updates
// (docs/cluster.md, "Release ownership").
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ClientSideApplyProvider, clusterProvider } from "./client-side-apply-provider";
import { clusterTargets } from "../shared/cluster-operations";
import { servicePort } from "../shared/smoke-test";
import { probeTiming, progressDeadlineSeconds, startupFailureThreshold } from "../shared/rollout-timing";
import { type CanaryWorkloadArgs, type IngressPeer } from "./canary-workload-args";

export { type CanaryWorkloadArgs, type IngressPeer } from "./canary-workload-args";

/** The container port's name: both Services target it, both Deployments declare it. */
export const containerPortName = "http";

/**
 * The fields the pipeline owns once the service runs, as Pulumi property paths (the engine's
 * grammar: `name`, `.name`, `[index]`; pulumi/pulumi sdk/go/common/resource/properties_path.go).
 * The pod template has exactly one container, so index 0 is the service's container.
 */
export const releaseOwnedPaths = {
  image: "spec.template.spec.containers[0].image",
  replicas: "spec.replicas",
} as const;

export type Track = "stable" | "canary";

/** The pods' timing settings, with their defaults. */
export const workloadTiming = (args: Pick<CanaryWorkloadArgs, "startupSeconds" | "minReadySeconds">) => ({
  startupSeconds: args.startupSeconds ?? 60,
  minReadySeconds: args.minReadySeconds ?? 10,
});

/** The labels that tell the Deployments' pods apart: the Services and selectors use these only. */
export const trackLabels = (appName: string, track: Track) => ({ app: appName, track });

export class CanaryWorkload extends pulumi.ComponentResource {
  readonly provider: ClientSideApplyProvider;
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  /** Selects `app`: stable and canary pods alike, in proportion to their ready counts. */
  readonly mainService: k8s.core.v1.Service;
  /** Selects `app` and `track: canary`: the canary's pods only. */
  readonly canaryService: k8s.core.v1.Service;
  readonly stable: k8s.apps.v1.Deployment;
  /** 0 replicas at rest; the pipeline scales it for a release and back to 0. */
  readonly canary: k8s.apps.v1.Deployment;
  readonly podDisruptionBudget: k8s.policy.v1.PodDisruptionBudget;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
  /**
   * The specs of both Deployments and both Services as declared here, for what must follow the
   * settings and not the releases (the smoke test after `pulumi up` reruns when they change). The
   * objects' own `spec` outputs would not do: a refresh fills them from the cluster, with the
   * pipeline's image and the canary's replicas, so every release would change them.
   */
  readonly declaredSpecs: pulumi.Input<unknown>[] = [];

  constructor(name: string, args: CanaryWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("canary-pipeline:kubernetes:CanaryWorkload", name, {}, opts);
    const app = args.appName;
    const names = clusterTargets({ appName: app, namespace: "" });
    const timing = workloadTiming(args);
    this.provider = clusterProvider(
      this,
      args.provider,
      `CanaryWorkload ${name}`,
      () => new ClientSideApplyProvider(`${name}-provider`, {}, { parent: this }),
    );
    const child = { parent: this, provider: this.provider };
    const partOf = { "app.kubernetes.io/part-of": app };
    const metadata = (objectName: string, labels: Record<string, string> = {}) => ({
      name: objectName,
      namespace: args.namespace,
      labels: { ...partOf, ...labels },
    });

    this.serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      {
        metadata: metadata(app),
        // The service does not call the Kubernetes API: no token in its pods.
        automountServiceAccountToken: false,
      },
      child,
    );

    const declared = <Spec>(spec: Spec): Spec => {
      this.declaredSpecs.push(spec);
      return spec;
    };
    const service = (suffix: string, objectName: string, selector: Record<string, string>) =>
      new k8s.core.v1.Service(
        `${name}-${suffix}-service`,
        {
          metadata: metadata(objectName, { app }),
          spec: declared({
            type: "ClusterIP",
            selector,
            ports: [{ name: containerPortName, port: servicePort, targetPort: containerPortName, protocol: "TCP" }],
          }),
        },
        child,
      );
    this.mainService = service("main", names.mainService, { app });
    this.canaryService = service("canary", names.canaryService, trackLabels(app, "canary"));

    const deployment = (track: Track, objectName: string, replicas: number, ignoreChanges: string[]) =>
      new k8s.apps.v1.Deployment(
        `${name}-${track}`,
        {
          metadata: metadata(objectName, trackLabels(app, track)),
          spec: declared({
            replicas,
            selector: { matchLabels: trackLabels(app, track) },
            minReadySeconds: timing.minReadySeconds,
            // A rollout step that makes no progress for one pod's bound fails, instead of waiting forever.
            progressDeadlineSeconds: progressDeadlineSeconds(timing),
            revisionHistoryLimit: 5,
            // Never below the declared capacity during a rollout: the canary's share stays as computed.
            strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
            template: podTemplate(args, trackLabels(app, track), this.serviceAccount.metadata.name),
          }),
        },
        { ...child, ignoreChanges },
      );
    this.stable = deployment("stable", names.stableDeployment, args.replicas, [releaseOwnedPaths.image]);
    this.canary = deployment("canary", names.canaryDeployment, 0, [
      releaseOwnedPaths.image,
      releaseOwnedPaths.replicas,
    ]);

    ({ podDisruptionBudget: this.podDisruptionBudget, networkPolicy: this.networkPolicy } = workloadGuards(
      name,
      args,
      child,
    ));

    this.registerOutputs({});
  }
}

/** A NetworkPolicy peer: a namespace by its automatic name label (and its pods by theirs), or an address block. */
export function networkPolicyPeer(peer: IngressPeer): k8s.types.input.networking.v1.NetworkPolicyPeer {
  if ("cidr" in peer) return { ipBlock: { cidr: peer.cidr } };
  return {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": peer.namespace } },
    ...(peer.podLabels !== undefined ? { podSelector: { matchLabels: { ...peer.podLabels } } } : {}),
  };
}

/**
 * The service's pod template, the same in every workload: the Deployments' (with their track's
 * labels) and the Rollout's (whose controller adds the track to each pod).
 */
export function podTemplate(
  args: CanaryWorkloadArgs,
  labels: Readonly<Record<string, string>>,
  serviceAccountName: pulumi.Input<string>,
): k8s.types.input.core.v1.PodTemplateSpec {
  const app = args.appName;
  const names = clusterTargets({ appName: app, namespace: "" });
  const timing = workloadTiming(args);
  const uid = args.runAsUser ?? 10001;
  const get = (path: string) => ({ httpGet: { path, port: containerPortName, scheme: "HTTP" } });
  // Spread over zones and nodes without ever blocking scheduling.
  const spread = (topologyKey: string) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: labels },
  });
  return {
    metadata: { labels: { "app.kubernetes.io/part-of": app, ...labels } },
    spec: {
      // Its Output, not the plain name: pods naming a missing ServiceAccount are refused, so the
      // Deployments wait for it through the data, with no dependsOn.
      serviceAccountName,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(args.imagePullSecret !== undefined ? { imagePullSecrets: [{ name: args.imagePullSecret }] } : {}),
      // The `restricted` Pod Security Standard (the namespace enforces it).
      securityContext: {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: uid,
        fsGroup: uid,
        seccompProfile: { type: "RuntimeDefault" },
      },
      topologySpreadConstraints: [spread("topology.kubernetes.io/zone"), spread("kubernetes.io/hostname")],
      containers: [
        {
          name: names.container,
          image: args.initialImage,
          ports: [{ name: containerPortName, containerPort: args.containerPort, protocol: "TCP" }],
          // The startupProbe holds the other two back until the container first answers, for at
          // most startupSeconds (then the kubelet restarts it), so liveness needs no initial
          // delay and a slow start is not mistaken for a hung process. Readiness takes a pod out
          // of the Services quickly; liveness restarts it only after a longer failure, so a slow
          // dependency does not turn into restarts.
          startupProbe: {
            ...get(args.healthPath),
            periodSeconds: probeTiming.startupPeriodSeconds,
            timeoutSeconds: probeTiming.readinessTimeoutSeconds,
            failureThreshold: startupFailureThreshold(timing),
          },
          readinessProbe: {
            ...get(args.healthPath),
            periodSeconds: probeTiming.readinessPeriodSeconds,
            timeoutSeconds: probeTiming.readinessTimeoutSeconds,
            failureThreshold: probeTiming.readinessFailureThreshold,
          },
          livenessProbe: {
            ...get(args.livenessPath ?? args.healthPath),
            periodSeconds: probeTiming.livenessPeriodSeconds,
            timeoutSeconds: probeTiming.livenessTimeoutSeconds,
            failureThreshold: probeTiming.livenessFailureThreshold,
          },
          resources: args.resources ?? {
            requests: { cpu: "100m", memory: "128Mi" },
            limits: { cpu: "500m", memory: "256Mi" },
          },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
          },
          volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        },
      ],
      volumes: [{ name: "tmp", emptyDir: { sizeLimit: args.tmpSizeLimit ?? "64Mi" } }],
    },
  };
}

/**
 * The guards of either workload: a PodDisruptionBudget over the stable track and a NetworkPolicy
 * that admits the container port only.
 */
export function workloadGuards(
  name: string,
  args: CanaryWorkloadArgs,
  child: pulumi.CustomResourceOptions,
): { podDisruptionBudget: k8s.policy.v1.PodDisruptionBudget; networkPolicy: k8s.networking.v1.NetworkPolicy } {
  const app = args.appName;
  const metadata = { name: app, namespace: args.namespace, labels: { "app.kubernetes.io/part-of": app } };
  const podDisruptionBudget = new k8s.policy.v1.PodDisruptionBudget(
    `${name}-pdb`,
    {
      metadata,
      spec: {
        // The stable track only. The eviction API counts unready pods as disruptions already
        // spent, so over both tracks one unready canary pod (a bad release, a crash loop) would use
        // up maxUnavailable 1 and block every drain for as long as it lasted: AlwaysAllow frees
        // only the unready pod itself, which the canary Deployment recreates at once. The canary
        // is 0 at rest and short-lived; a drain may take its pods freely.
        selector: { matchLabels: trackLabels(app, "stable") },
        maxUnavailable: 1,
        // An unready stable pod may always be evicted: it serves nothing, so it never blocks a drain.
        unhealthyPodEvictionPolicy: "AlwaysAllow",
      },
    },
    child,
  );

  const port = { protocol: "TCP", port: args.containerPort };
  const networkPolicy = new k8s.networking.v1.NetworkPolicy(
    `${name}-network-policy`,
    {
      metadata,
      spec: {
        podSelector: { matchLabels: { app } },
        policyTypes: ["Ingress"],
        ingress: [
          args.networkPolicyIngress === undefined
            ? // No `from`: any source, on the container port only. An ingress controller in another
              // namespace or on the host network, or a load balancer sending to pod IPs, keeps working
              // on the first `pulumi up`; every other port is closed.
              { ports: [port] }
            : // An empty pod selector: every pod of this namespace (the smoke-test and bake pods),
              // and the listed sources.
              { from: [{ podSelector: {} }, ...args.networkPolicyIngress.map(networkPolicyPeer)], ports: [port] },
        ],
      },
    },
    child,
  );
  return { podDisruptionBudget, networkPolicy };
}
