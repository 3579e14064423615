// The service under canaryEngine argo-rollouts: one Argo Rollouts `Rollout` in place of the two
// Deployments, whose controller (installed in the cluster beforehand) walks the canary steps of
// the plan (components/shared/argo-rollout.ts) and runs its AnalysisTemplates; the same pod
// template, ServiceAccount and guards as CanaryWorkload; three Services: the main one (every pod,
// by replica ratio), and the canary and stable ones, whose selectors the controller narrows to
// each ReplicaSet's pods. The controller labels the pods `track: canary` and `track: stable`
// (canaryMetadata, stableMetadata), so the stable-only budget, the Prometheus queries' `$track`
// and the Services keep the pipeline engine's meaning.
// After the first `pulumi up` the pipeline owns the Rollout's image, as it owns the Deployments'
// (docs/cluster.md, "Release ownership"); the controller owns its status and the Services' selectors.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ClientSideApplyProvider, clusterProvider } from "./client-side-apply-provider";
import { rolloutApiVersion, type RolloutPlan } from "../shared/argo-rollout";
import { clusterTargets } from "../shared/cluster-operations";
import { progressDeadlineSeconds } from "../shared/rollout-timing";
import { servicePort } from "../shared/smoke-test";
import {
  containerPortName,
  podTemplate,
  releaseOwnedPaths,
  workloadGuards,
  workloadTiming,
  type CanaryWorkloadArgs,
} from "./canary-workload";

export interface CanaryRolloutArgs extends CanaryWorkloadArgs {
  /** The canary strategy and AnalysisTemplates (rolloutPlan of the stack's settings). Required. */
  readonly plan: RolloutPlan;
}

export class CanaryRollout extends pulumi.ComponentResource {
  readonly provider: ClientSideApplyProvider;
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  /** Selects `app`: stable and canary pods alike, in proportion to their ready counts. */
  readonly mainService: k8s.core.v1.Service;
  /** The strategy's canaryService: the controller points it at the canary's pods. */
  readonly canaryService: k8s.core.v1.Service;
  /** The strategy's stableService: the controller points it at stable's pods. */
  readonly stableService: k8s.core.v1.Service;
  readonly analysisTemplates: k8s.apiextensions.CustomResource[];
  readonly rollout: k8s.apiextensions.CustomResource;
  readonly podDisruptionBudget: k8s.policy.v1.PodDisruptionBudget;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
  /** The specs as declared here, for what must follow the settings and not the releases (CanaryWorkload.declaredSpecs). */
  readonly declaredSpecs: pulumi.Input<unknown>[] = [];

  constructor(name: string, args: CanaryRolloutArgs, opts?: pulumi.ComponentResourceOptions) {
    super("canary-pipeline:kubernetes:CanaryRollout", name, {}, opts);
    const app = args.appName;
    const plan = args.plan;
    const names = clusterTargets({ appName: app, namespace: "" });
    const timing = workloadTiming(args);
    this.provider = clusterProvider(
      this,
      args.provider,
      `CanaryRollout ${name}`,
      () => new ClientSideApplyProvider(`${name}-provider`, {}, { parent: this }),
    );
    const child = { parent: this, provider: this.provider };
    const metadata = (objectName: string, labels: Record<string, string> = {}) => ({
      name: objectName,
      namespace: args.namespace,
      labels: { "app.kubernetes.io/part-of": app, ...labels },
    });
    const declared = <Spec>(spec: Spec): Spec => {
      this.declaredSpecs.push(spec);
      return spec;
    };

    this.serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-service-account`,
      { metadata: metadata(app), automountServiceAccountToken: false },
      child,
    );
    // All three select `app`: the controller adds the canary's or stable's pod-template hash to the
    // canary and stable Services' selectors (and removes it when the Rollout is deleted).
    const service = (suffix: string, objectName: string) =>
      new k8s.core.v1.Service(
        `${name}-${suffix}-service`,
        {
          metadata: metadata(objectName, { app }),
          spec: declared({
            type: "ClusterIP",
            selector: { app },
            ports: [{ name: containerPortName, port: servicePort, targetPort: containerPortName, protocol: "TCP" }],
          }),
        },
        child,
      );
    this.mainService = service("main", names.mainService);
    this.canaryService = service("canary", plan.canaryService);
    this.stableService = service("stable", plan.stableService);

    this.analysisTemplates = plan.templates.map(
      (template) =>
        new k8s.apiextensions.CustomResource(
          `${name}-${template.name.slice(app.length + 1)}-template`,
          {
            apiVersion: rolloutApiVersion,
            kind: "AnalysisTemplate",
            metadata: metadata(template.name),
            spec: declared({ metrics: template.metrics }),
          },
          child,
        ),
    );

    this.rollout = new k8s.apiextensions.CustomResource(
      `${name}-rollout`,
      {
        apiVersion: rolloutApiVersion,
        kind: "Rollout",
        metadata: {
          ...metadata(plan.name, { app }),
          // `pulumi up` waits until at least `replicas` pods are available (the controller's Available
          // condition, over every ReplicaSet): a first deploy, a scale. Not for Healthy, which a
          // template change reaches only once a release promotes it, nor for an exact count, which
          // a canary beside stable's pods exceeds.
          annotations: { "pulumi.com/waitFor": "condition=Available" },
        },
        spec: declared({
          replicas: args.replicas,
          selector: { matchLabels: { app } },
          // Declared only when set: the refreshed Rollout holds no zero (it is the default), and
          // `pulumi up` would otherwise add it back after every release (the real tier showed it).
          ...(timing.minReadySeconds > 0 ? { minReadySeconds: timing.minReadySeconds } : {}),
          // A step that makes no progress for one pod's bound aborts the canary (not only marks it).
          progressDeadlineSeconds: progressDeadlineSeconds(timing),
          progressDeadlineAbort: true,
          revisionHistoryLimit: 5,
          template: podTemplate(args, { app }, this.serviceAccount.metadata.name),
          strategy: {
            canary: {
              canaryService: plan.canaryService,
              stableService: plan.stableService,
              canaryMetadata: { labels: { track: "canary" } },
              stableMetadata: { labels: { track: "stable" } },
              // Never below the declared capacity: the canary's pods come in addition, one at a time.
              maxSurge: 1,
              maxUnavailable: 0,
              steps: plan.steps,
            },
          },
        }),
      },
      // The templates first: a step naming a missing template fails the Rollout.
      { ...child, dependsOn: this.analysisTemplates, ignoreChanges: [releaseOwnedPaths.image] },
    );

    ({ podDisruptionBudget: this.podDisruptionBudget, networkPolicy: this.networkPolicy } = workloadGuards(
      name,
      args,
      child,
    ));

    this.registerOutputs({});
  }
}
