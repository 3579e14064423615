// What RBAC cannot say about the deployer's pods. `pods: create` cannot be limited by name (the
// name of an object being created is not known to the authoriser when the request carries it in
// the body only: Kubernetes docs, "Using RBAC Authorization", Referring to resources), so a Role
// that lets the pipeline start its smoke-test pod would let it start any pod in the namespace: one
// that mounts a Secret, reads it into its log or sends it away. A ValidatingAdmissionPolicy
// (admissionregistration.k8s.io/v1, GA since Kubernetes 1.30) closes that: for pods CREATED by the
// deployer identity in the service's namespace, it admits exactly the shapes the pipeline creates,
// derived from the operations (each ClusterOperation with `createsPod`), and refuses the rest with
// a message that says what and why. Pods created by anyone else (the admin, the controllers: the
// Deployments' ReplicaSets, a CronJob's Jobs) are not matched.
// The deployer also patches its two Deployments (`kubectl set image`, `kubectl annotate`), and a
// patch could add to their pod template what the pod policy refuses (a Secret volume, an env value
// from a Secret, another container), for the ReplicaSet controller to create. A second policy
// admits the deployer's Deployment updates only when the pod template keeps everything but its
// containers' images, and those are the service's image by digest (or its initialImage).
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { refuseArgs } from "../../config/errors";
import type { ClusterOperation, CreatedPod } from "../shared/cluster-operations";

/** Who the deployer is to the API server: a ServiceAccount's user name (token) or a group (eks). */
export type DeployerIdentity = { readonly username: string } | { readonly group: string };

/** The user name the API server gives a ServiceAccount's token (k8s.io/apiserver pkg/authentication/serviceaccount/util.go, MakeUsername). */
export const serviceAccountUsername = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;

/** The name of the policy and its binding: cluster-scoped, so the service and its namespace make it unique. */
export const deployerPodPolicyName = (appName: string, namespace: string) => `${appName}.${namespace}.deployer-pods`;

/**
 * The pods the operations create, by name (one image each); two images for one name are refused
 * (a ConfigError naming `operations` of `holder`).
 */
export function createdPods(operations: readonly ClusterOperation[], holder = "DeployerPodPolicy"): CreatedPod[] {
  const byName = new Map<string, CreatedPod>();
  for (const pod of operations.flatMap((o) => (o.createsPod ? [o.createsPod] : []))) {
    const known = byName.get(pod.name);
    if (known && known.image !== pod.image)
      refuseArgs(holder, [
        {
          propertyPath: "operations",
          reason: `create the pod ${pod.name} with two images: ${known.image} and ${pod.image}`,
        },
      ]);
    byName.set(pod.name, pod);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The CEL condition that the request comes from the deployer. */
export function deployerCondition(identity: DeployerIdentity): string {
  return "username" in identity
    ? `request.userInfo.username == ${JSON.stringify(identity.username)}`
    : `has(request.userInfo.groups) && ${JSON.stringify(identity.group)} in request.userInfo.groups`;
}

/** `has()` of each step of a field path, so that an absent field reads as absent instead of an error. */
const present = (root: string, ...path: string[]) =>
  path.map((_, i) => `has(${[root, ...path.slice(0, i + 1)].join(".")})`).join(" && ");
/** A list field that is absent or empty. */
const none = (root: string, field: string) => `(!${present(root, field)} || ${root}.${field}.size() == 0)`;
/** A container's security setting, else the pod's (the kubelet's rule: the container's wins). */
const effective = (path: string[], fallback: string) =>
  `(${present("c", "securityContext", ...path)} ? c.securityContext.${path.join(".")} : (${present("object.spec", "securityContext", ...path)} ? object.spec.securityContext.${path.join(".")} : ${fallback}))`;
const allContainers = (condition: string) => `object.spec.containers.all(c, ${condition})`;

export interface PodValidation {
  readonly expression: string;
  readonly message: string;
}

/** The checks a pod of the deployer must pass, each with what it refuses and why. */
export function podValidations(pods: readonly CreatedPod[]): PodValidation[] {
  const names = pods.map((p) => p.name).join(", ") || "none";
  const known = "has(object.metadata.name) && object.metadata.name in variables.images";
  return [
    {
      expression: known,
      message: `the deployer may create only the pipeline's own pods (${names}): RBAC cannot limit pods: create by name`,
    },
    {
      expression: `!(${known}) || ${allContainers("c.image == variables.images[object.metadata.name]")}`,
      message: `a pipeline pod runs its pinned image only (${pods.map((p) => `${p.name}: ${p.image}`).join("; ") || "none"})`,
    },
    {
      expression: `object.spec.containers.size() == 1 && ${none("object.spec", "initContainers")} && ${none("object.spec", "ephemeralContainers")}`,
      message: "a pipeline pod has exactly one container, no init or ephemeral containers",
    },
    {
      expression: `${present("object.spec", "automountServiceAccountToken")} && object.spec.automountServiceAccountToken == false`,
      message: "a pipeline pod sets automountServiceAccountToken: false: it never holds an API credential",
    },
    {
      expression: none("object.spec", "volumes"),
      message: "a pipeline pod mounts no volume: no Secret, ConfigMap, host path or projected token",
    },
    {
      expression: allContainers(`${none("c", "env")} && ${none("c", "envFrom")}`),
      message: "a pipeline pod has no env or envFrom: no value from a Secret or ConfigMap",
    },
    {
      expression: ["hostNetwork", "hostPID", "hostIPC"]
        .map((f) => `!(${present("object.spec", f)} && object.spec.${f})`)
        .join(" && "),
      message: "a pipeline pod shares no host namespace (hostNetwork, hostPID, hostIPC)",
    },
    {
      expression: `${present("object.spec", "restartPolicy")} && object.spec.restartPolicy == "Never" && ${present("object.spec", "activeDeadlineSeconds")}`,
      message: "a pipeline pod runs once and is bounded in time: restartPolicy Never and activeDeadlineSeconds",
    },
    {
      expression: allContainers(
        [
          `${effective(["runAsNonRoot"], "false")} == true`,
          `${effective(["seccompProfile", "type"], '""')} == "RuntimeDefault"`,
          `${present("c", "securityContext", "allowPrivilegeEscalation")} && c.securityContext.allowPrivilegeEscalation == false`,
          `!(${present("c", "securityContext", "privileged")} && c.securityContext.privileged)`,
          `${present("c", "securityContext", "readOnlyRootFilesystem")} && c.securityContext.readOnlyRootFilesystem == true`,
          `${present("c", "securityContext", "capabilities", "drop")} && "ALL" in c.securityContext.capabilities.drop`,
          `!(${present("c", "securityContext", "capabilities", "add")} && c.securityContext.capabilities.add.size() > 0)`,
        ].join(" && "),
      ),
      message:
        "a pipeline pod runs hardened: runAsNonRoot, seccomp RuntimeDefault, allowPrivilegeEscalation false, not privileged, readOnlyRootFilesystem, capabilities drop ALL and add none",
    },
  ];
}

/** The name of the second policy and its binding, on the deployer's Deployment updates. */
export const deployerReleasePolicyName = (appName: string, namespace: string) =>
  `${appName}.${namespace}.deployer-releases`;

/** `a` and `b` both absent, or both present and equal. */
const unchanged = (root: string, old: string, field: string) =>
  `(has(${root}.${field}) == has(${old}.${field}) && (!has(${root}.${field}) || ${root}.${field} == ${old}.${field}))`;

/**
 * The checks a Rollout update by the deployer must pass besides its pod template's: the canary
 * steps and the services stay as declared (a deployer that could drop the analysis or the approval
 * pause could promote a release nobody judged).
 */
export const rolloutValidations: readonly PodValidation[] = [
  {
    expression: ["strategy", "workloadRef", "selector"]
      .map((f) => unchanged("object.spec", "oldObject.spec", f))
      .join(" && "),
    message:
      "the deployer may change the Rollout's image only: its canary steps, analyses, Services and selector stay as the stack declares them",
  },
];

/**
 * The status changes the rollback identity may make to the Rollout: an abort, nothing that moves
 * the canary on (a promotion, a step skipped, a pause lifted): its environment has no reviewers.
 */
export const rollbackStatusValidations: readonly PodValidation[] = [
  {
    expression: ["promoteFull", "currentStepIndex", "pauseConditions", "controllerPause"]
      .map((f) => unchanged("object.status", "oldObject.status", f))
      .join(" && "),
    message: "the rollback identity may only abort the Rollout: it may not promote it, skip a step or lift a pause",
  },
];

/** The checks a Deployment update by the deployer must pass: a new image, nothing else in the pod template. */
export function releaseValidations(
  image: string,
  initialImage: string,
  workload: "deployments" | "rollouts" = "deployments",
): PodValidation[] {
  const what = workload === "rollouts" ? "the Rollout's image" : "its Deployments' images";
  // The Rollout's CRD leaves some pod fields untyped (volumes: x-kubernetes-preserve-unknown-fields),
  // which the API server's type check of the policy reports as undefined fields: read dynamically.
  const typed = (path: string) => (workload === "rollouts" ? `dyn(${path})` : path);
  const spec = typed("object.spec.template.spec"),
    old = typed("oldObject.spec.template.spec");
  const digestOf = `^${image.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}@sha256:[0-9a-f]{64}$`;
  return [
    {
      expression: [
        "volumes",
        "initContainers",
        "ephemeralContainers",
        "serviceAccountName",
        "automountServiceAccountToken",
        "hostNetwork",
        "hostPID",
        "hostIPC",
        "securityContext",
      ]
        .map((f) => unchanged(spec, old, f))
        .join(" && "),
      message: `the deployer may change ${what} only: the pods' volumes, init containers, service account and security context stay as the stack declares them`,
    },
    {
      expression:
        `${spec}.containers.size() == ${old}.containers.size() && ${spec}.containers.all(c, ${old}.containers.exists(o, o.name == c.name && ` +
        ["env", "envFrom", "volumeMounts", "command", "args", "securityContext"]
          .map((f) => unchanged("c", "o", f))
          .join(" && ") +
        "))",
      message: `the deployer may change ${what} only: the containers, env, mounts, commands and security context stay as the stack declares them`,
    },
    {
      expression: `${spec}.containers.all(c, ${old}.containers.exists(o, o.name == c.name && o.image == c.image) || c.image.matches(${JSON.stringify(digestOf)}) || c.image == ${JSON.stringify(initialImage)})`,
      message: `the deployer deploys the service's own image by digest (${image}@sha256:…) or its initialImage, nothing else`,
    },
  ];
}

export interface DeployerPodPolicyArgs {
  /** The service's name. Required. */
  readonly appName: string;
  /** The service's namespace, as a plain name: the policy's name holds it. Required. */
  readonly namespace: string;
  /** The deployer as the API server sees it. Required. */
  readonly deployer: DeployerIdentity;
  /** The deployer's operations: those with `createsPod` are the pods it may create. Required. */
  readonly operations: readonly ClusterOperation[];
  /** The service's image (its repository, without tag or digest): the deployer deploys it by digest. Required. */
  readonly image: string;
  /** The image of the first deployment, which a failed promotion may put back. Required. */
  readonly initialImage: string;
  /**
   * What the deployer releases to: the Deployments (canaryEngine pipeline) or the Rollout
   * (argo-rollouts, whose canary steps must stay as declared). Default: deployments.
   */
  readonly workload?: "deployments" | "rollouts";
  /** With workload rollouts: the rollback identity, whose Rollout status changes may only abort. Default: none. */
  readonly rollbacker?: DeployerIdentity;
  /** The provider to declare the objects through (default: the parent's). */
  readonly provider?: k8s.Provider;
}

/** The name of the rollback identity's Rollout-status policy and its binding. */
export const rollbackStatusPolicyName = (appName: string, namespace: string) =>
  `${appName}.${namespace}.rollback-aborts`;

/** The policy and its binding: Deny, in the service's namespace, for the deployer only. */
export class DeployerPodPolicy extends pulumi.ComponentResource {
  readonly policy: k8s.admissionregistration.v1.ValidatingAdmissionPolicy;
  readonly binding: k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
  /** The deployer's Deployment updates: a new image, nothing else. */
  readonly releasePolicy: k8s.admissionregistration.v1.ValidatingAdmissionPolicy;
  readonly releaseBinding: k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
  /** With workload rollouts and a rollbacker: its Rollout status changes, an abort only. */
  readonly rollbackPolicy?: k8s.admissionregistration.v1.ValidatingAdmissionPolicy;
  readonly rollbackBinding?: k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
  /** The pods the deployer may create. */
  readonly pods: readonly CreatedPod[];

  constructor(name: string, args: DeployerPodPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    const pods = createdPods(args.operations, `DeployerPodPolicy ${name}`);
    super("canary-pipeline:kubernetes:DeployerPodPolicy", name, {}, opts);
    this.pods = pods;
    const child = { parent: this, ...(args.provider ? { provider: args.provider } : {}) };
    const objectName = deployerPodPolicyName(args.appName, args.namespace);
    const labels = { "app.kubernetes.io/part-of": args.appName, "app.kubernetes.io/component": "deployer" };
    const rollouts = args.workload === "rollouts";

    this.policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
      `${name}-policy`,
      {
        metadata: { name: objectName, labels },
        spec: {
          // An expression that cannot be evaluated refuses the pod rather than letting it through.
          failurePolicy: "Fail",
          matchConstraints: {
            resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
          },
          matchConditions: [{ name: "created-by-the-deployer", expression: deployerCondition(args.deployer) }],
          variables: [
            { name: "images", expression: JSON.stringify(Object.fromEntries(this.pods.map((p) => [p.name, p.image]))) },
          ],
          validations: podValidations(this.pods).map((v) => ({ ...v, reason: "Forbidden" })),
        },
      },
      child,
    );

    // Deny, in the service's namespace only (by the label the API server sets on every namespace).
    // The policy's name as its Output: the binding waits for the policy through the data.
    const bind = (
      suffix: string,
      objectName: string,
      policy: k8s.admissionregistration.v1.ValidatingAdmissionPolicy,
      bindingLabels: Record<string, string> = labels,
    ) =>
      new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        `${name}-${suffix}`,
        {
          metadata: { name: objectName, labels: bindingLabels },
          spec: {
            policyName: policy.metadata.name,
            validationActions: ["Deny"],
            matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.namespace } } },
          },
        },
        child,
      );
    this.binding = bind("binding", objectName, this.policy);

    const releaseName = deployerReleasePolicyName(args.appName, args.namespace);
    this.releasePolicy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
      `${name}-release-policy`,
      {
        metadata: { name: releaseName, labels },
        spec: {
          failurePolicy: "Fail",
          // The Deployment itself; its scale subresource (kubectl scale) changes the replica count only.
          // A Rollout's status subresource is the rollback policy's (the deployer may promote and abort).
          matchConstraints: {
            resourceRules: [
              rollouts
                ? {
                    apiGroups: ["argoproj.io"],
                    apiVersions: ["v1alpha1"],
                    operations: ["UPDATE"],
                    resources: ["rollouts"],
                  }
                : { apiGroups: ["apps"], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["deployments"] },
            ],
          },
          matchConditions: [{ name: "updated-by-the-deployer", expression: deployerCondition(args.deployer) }],
          validations: [
            ...releaseValidations(args.image, args.initialImage, rollouts ? "rollouts" : "deployments"),
            ...(rollouts ? rolloutValidations : []),
          ].map((v) => ({ ...v, reason: "Forbidden" })),
        },
      },
      child,
    );
    this.releaseBinding = bind("release-binding", releaseName, this.releasePolicy);

    if (rollouts && args.rollbacker !== undefined) {
      const rollbackName = rollbackStatusPolicyName(args.appName, args.namespace);
      const rollbackLabels = { ...labels, "app.kubernetes.io/component": "rollback" };
      this.rollbackPolicy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        `${name}-rollback-policy`,
        {
          metadata: { name: rollbackName, labels: rollbackLabels },
          spec: {
            failurePolicy: "Fail",
            matchConstraints: {
              resourceRules: [
                {
                  apiGroups: ["argoproj.io"],
                  apiVersions: ["v1alpha1"],
                  operations: ["UPDATE"],
                  resources: ["rollouts/status"],
                },
              ],
            },
            matchConditions: [
              { name: "updated-by-the-rollback-identity", expression: deployerCondition(args.rollbacker) },
            ],
            validations: rollbackStatusValidations.map((v) => ({ ...v, reason: "Forbidden" })),
          },
        },
        child,
      );
      this.rollbackBinding = bind("rollback-binding", rollbackName, this.rollbackPolicy, rollbackLabels);
    }

    this.registerOutputs({});
  }
}
