// The canary reaper: an in-cluster CronJob that scales an expired canary to 0 every minute, so a
// canary stops serving when its deadline passes even if the run that deployed it is gone
// (components/shared/canary-expiry.ts: the script, components/scripts/canary-reaper.sh, and its
// timing; docs/pipeline.md, "Expired canaries"). It runs as an identity of its own whose Role
// grants exactly what the script's two requests need (rulesFor over reaperOperations): get the
// canary Deployment, patch its scale.
// Its image is the smoke test's pinned curl image; the Pod follows the restricted Pod Security
// profile the namespace enforces.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { reaperOperations, reaperScript, reaperTiming } from "../shared/canary-expiry";
import { clusterTargets, operationList } from "../shared/cluster-operations";
import { rulesFor } from "../shared/rbac-rules";
import { smokeTestImage, smokeTestUser } from "../shared/smoke-test";
import { NamespacedIdentity } from "./namespaced-identity";

/** The name of the reaper's CronJob, ServiceAccount, Role and RoleBinding. */
export const reaperName = (appName: string) => `${appName}-canary-reaper`;

export interface CanaryReaperArgs {
  /** The service's name: it reaps `${appName}-canary`; its objects are named `${appName}-canary-reaper`. Required. */
  readonly appName: string;
  /** The namespace of the canary and of the reaper's objects. Required. */
  readonly namespace: pulumi.Input<string>;
  /** Requests and limits of its container. Default: 10m/16Mi requested, 100m/32Mi limit. */
  readonly resources?: { requests: Record<string, string>; limits: Record<string, string> };
  /** How long a finished Job (and its Pod, with the run's one line) is kept, in seconds. Default: 3600. */
  readonly ttlSecondsAfterFinished?: number;
  /** The provider to declare the objects through. Default: the parent's. */
  readonly provider?: k8s.Provider;
}

/** The reaper's ServiceAccount (no long-lived token), its Role and RoleBinding. */
class ReaperIdentity extends NamespacedIdentity {
  constructor(
    name: string,
    args: { appName: string; namespace: pulumi.Input<string>; provider?: k8s.Provider },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super(
      "canary-pipeline:kubernetes:CanaryReaperIdentity",
      name,
      {
        appName: args.appName,
        objectName: reaperName(args.appName),
        component: "canary-reaper",
        namespace: args.namespace,
        rules: rulesFor(operationList(reaperOperations(clusterTargets({ appName: args.appName, namespace: "" })))),
        subject: { clusterAuth: "in-cluster" },
        ...(args.provider ? { provider: args.provider } : {}),
      },
      opts,
    );
  }
}

/** The CronJob that scales the service's expired canary to 0, and its identity. */
export class CanaryReaper extends pulumi.ComponentResource {
  readonly identity: NamespacedIdentity;
  readonly cronJob: k8s.batch.v1.CronJob;

  constructor(name: string, args: CanaryReaperArgs, opts?: pulumi.ComponentResourceOptions) {
    super("canary-pipeline:kubernetes:CanaryReaper", name, {}, opts);
    const app = args.appName;
    const objectName = reaperName(app);
    const provider = args.provider;
    this.identity = new ReaperIdentity(
      `${name}-identity`,
      { appName: app, namespace: args.namespace, ...(provider ? { provider } : {}) },
      { parent: this },
    );
    const labels = {
      "app.kubernetes.io/name": objectName,
      "app.kubernetes.io/part-of": app,
      "app.kubernetes.io/component": "canary-reaper",
    };
    const script = pulumi
      .output(args.namespace)
      .apply((namespace) => reaperScript(clusterTargets({ appName: app, namespace })));

    this.cronJob = new k8s.batch.v1.CronJob(
      `${name}-cron-job`,
      {
        metadata: { name: objectName, namespace: args.namespace, labels },
        spec: {
          schedule: reaperTiming.schedule,
          // Never two runs at once: one due while another still goes is skipped, as is one that
          // cannot start within startingDeadlineSeconds; the next minute's run follows.
          concurrencyPolicy: "Forbid",
          startingDeadlineSeconds: reaperTiming.startingDeadlineSeconds,
          successfulJobsHistoryLimit: 1,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            metadata: { labels },
            spec: {
              // A failed run is not retried: the next minute's run is the retry.
              backoffLimit: 0,
              activeDeadlineSeconds: reaperTiming.activeDeadlineSeconds,
              ttlSecondsAfterFinished: args.ttlSecondsAfterFinished ?? 3600,
              template: {
                metadata: { labels },
                spec: {
                  // Its Output, not the plain name: pods naming a missing ServiceAccount are refused.
                  serviceAccountName: this.identity.serviceAccount!.metadata.name,
                  // The account mounts no token by default; this pod is the one that needs it.
                  automountServiceAccountToken: true,
                  enableServiceLinks: false,
                  restartPolicy: "Never",
                  // The smoke-test pod's hardening: the restricted Pod Security profile.
                  securityContext: {
                    runAsNonRoot: true,
                    runAsUser: smokeTestUser,
                    runAsGroup: smokeTestUser,
                    seccompProfile: { type: "RuntimeDefault" },
                  },
                  containers: [
                    {
                      name: "reaper",
                      image: smokeTestImage,
                      command: ["/bin/sh", "-c", script],
                      resources: args.resources ?? {
                        requests: { cpu: "10m", memory: "16Mi" },
                        limits: { cpu: "100m", memory: "32Mi" },
                      },
                      securityContext: {
                        allowPrivilegeEscalation: false,
                        readOnlyRootFilesystem: true,
                        runAsNonRoot: true,
                        capabilities: { drop: ["ALL"] },
                      },
                    },
                  ],
                },
              },
            },
          },
        },
      },
      { parent: this, ...(provider ? { provider } : {}) },
    );

    this.registerOutputs({});
  }
}
