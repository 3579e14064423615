// The catalogue of cluster operations the pipeline performs. It is the one source of two facts:
// the kubectl commands the generated workflows (and the smoke test after `pulumi up`) run, and
// the RBAC rules of the deployer Role, which grants what these commands need and nothing more.
// What each kubectl command needs: the API requests kubectl's own source makes (k8s.io/kubectl,
// pkg/cmd/...), each verb proven needed against the real authoriser by
// test/cluster/token-mode.test.ts, scenario 3.

/** One RBAC rule, as in a Role. */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

/** The names the pipeline's operations act on, in one namespace. */
export interface ClusterTargets {
  readonly namespace: string;
  /** The stable and canary Deployments, and the container both run. */
  readonly stableDeployment: string;
  readonly canaryDeployment: string;
  readonly container: string;
  /** The label selectors of the stable and the canary pods. */
  readonly stableSelector: string;
  readonly canarySelector: string;
  /** The smoke-test pod of a release (the canary job's). */
  readonly smokeTestPod: string;
  /** The smoke-test pod of `pulumi up`: another name, so that neither removes the other's. */
  readonly upSmokeTestPod: string;
  /** The pod that probes and judges the canary during its bake window. */
  readonly bakePod: string;
}

/**
 * The annotation on the canary Deployment that holds the time (Unix seconds) after which the
 * canary must not serve: the canary job sets it before scaling up, the reaper scales an expired
 * canary to 0 and a promotion refuses one.
 */
export const canaryExpiryAnnotation = "canary-pipeline.dev/expires-at";

/**
 * The annotation on the canary Deployment that names the workflow run that deployed it (its
 * `github.run_id`, the same in every attempt of the run): a promotion, and a run's clean-up, act
 * only on their own run's canary.
 */
export const canaryRunAnnotation = "canary-pipeline.dev/run";

/**
 * The annotation on the stable Deployment that holds the release number it runs (the first
 * environment's build run number): a release older than it is refused unless it is an explicit rollback.
 */
export const releaseAnnotation = "canary-pipeline.dev/release";

/** A jsonpath that reads one annotation (its dots escaped). */
const annotationPath = (key: string) => `{.metadata.annotations.${key.replace(/\./g, "\\.")}}`;

/** A pod the deployer creates: its name and its one image (the deployer's admission policy admits these only). */
export interface CreatedPod {
  readonly name: string;
  readonly image: string;
}

/** The names every part of the stack uses for the service's objects, from its settings. */
export function clusterTargets(config: { readonly appName: string; readonly namespace: string }): ClusterTargets & {
  readonly mainService: string;
  readonly canaryService: string;
  /** canaryEngine argo-rollouts: the Rollout (in place of both Deployments) and the Service it points at stable's pods. */
  readonly rollout: string;
  readonly stableService: string;
} {
  const app = config.appName;
  return {
    namespace: config.namespace,
    stableDeployment: app,
    canaryDeployment: `${app}-canary`,
    container: app,
    stableSelector: `app=${app},track=stable`,
    canarySelector: `app=${app},track=canary`,
    smokeTestPod: `${app}-smoke-test`,
    upSmokeTestPod: `${app}-smoke-test-up`,
    bakePod: `${app}-canary-bake`,
    mainService: app,
    canaryService: `${app}-canary`,
    rollout: app,
    stableService: `${app}-stable`,
  };
}

/** A cluster operation: the kubectl command it runs and the API access that command needs. */
export interface ClusterOperation {
  readonly description: string;
  readonly command: string;
  readonly rules: readonly PolicyRule[];
  /** The pod the command creates, when it creates one. */
  readonly createsPod?: CreatedPod;
}

const argo = (resources: string[], verbs: string[], resourceNames: string[]): PolicyRule => ({
  apiGroups: ["argoproj.io"],
  resources,
  verbs,
  resourceNames,
});
const apps = (resources: string[], verbs: string[], resourceNames?: string[]): PolicyRule => ({
  apiGroups: ["apps"],
  resources,
  verbs,
  ...(resourceNames ? { resourceNames } : {}),
});
const core = (resources: string[], verbs: string[], resourceNames?: string[]): PolicyRule => ({
  apiGroups: [""],
  resources,
  verbs,
  ...(resourceNames ? { resourceNames } : {}),
});

/** The longest one API request of the canary reaper may take (curl --max-time). */
export const apiRequestSeconds = 4;

/**
 * A request of the canary reaper's script to the API server (components/scripts/canary-reaper.sh):
 * its bearer token comes on stdin as a curl config line, never on the command line; it prints the
 * answer, then the HTTP status on a line of its own.
 */
const apiServerRequest = (options: string, path: string) =>
  `curl --silent --show-error --max-time ${apiRequestSeconds} --config - --cacert "$CA_FILE" --user-agent canary-pipeline-reaper --write-out '\\n%{http_code}'${options} "$API_SERVER${path}"`;
const canaryPath = (t: ClusterTargets) => `/apis/apps/v1/namespaces/${t.namespace}/deployments/${t.canaryDeployment}`;

/**
 * The operations, each a function of the targets and the values a step supplies at run time
 * (shell expressions such as "$IMAGE" are passed through as they are).
 */
export const clusterOperations = {
  /** Points a Deployment's container at an image (by digest). */
  setImage: (t: ClusterTargets, deployment: string, image: string): ClusterOperation => ({
    description: `set the image of ${deployment}`,
    command: `kubectl set image deployment/${deployment} ${t.container}=${image} --namespace ${t.namespace}`,
    rules: [apps(["deployments"], ["get", "patch"], [deployment])],
  }),
  /** Scales a Deployment (kubectl patches the scale subresource). */
  scale: (t: ClusterTargets, deployment: string, replicas: string | number): ClusterOperation => ({
    description: `scale ${deployment} to ${replicas}`,
    command: `kubectl scale deployment/${deployment} --replicas=${replicas} --namespace ${t.namespace}`,
    rules: [apps(["deployments"], ["get"], [deployment]), apps(["deployments/scale"], ["patch"], [deployment])],
  }),
  /** Waits until a Deployment's rollout completes (gets, then watches it by name). */
  rolloutStatus: (t: ClusterTargets, deployment: string, timeout: string): ClusterOperation => ({
    description: `wait for the rollout of ${deployment}`,
    command: `kubectl rollout status deployment/${deployment} --timeout=${timeout} --namespace ${t.namespace}`,
    rules: [apps(["deployments"], ["get", "list", "watch"], [deployment])],
  }),
  /** Lists the images the canary's pods really run. */
  canaryPodImages: (t: ClusterTargets): ClusterOperation => ({
    description: "read the image digests of the canary's pods",
    command: `kubectl get pods --selector ${t.canarySelector} --namespace ${t.namespace} --output jsonpath='{range .items[*]}{.status.containerStatuses[0].imageID}{"\\n"}{end}'`,
    rules: [core(["pods"], ["list"])],
  }),
  /** Reads the image a Deployment's container runs. */
  readImage: (t: ClusterTargets, deployment: string): ClusterOperation => ({
    description: `read the image of ${deployment}`,
    command: `kubectl get deployment/${deployment} --namespace ${t.namespace} --output jsonpath='{.spec.template.spec.containers[0].image}'`,
    rules: [apps(["deployments"], ["get"], [deployment])],
  }),
  /**
   * Lists a track's pods as `name|image|waiting reason|restarts|Ready condition`, one per line (the
   * pod has one container): what tells a pod that will never become ready (crash loop, image pull
   * failure) from one still starting, and what the bake window watches on the canary.
   */
  podStates: (t: ClusterTargets, selector: string): ClusterOperation => ({
    description: `read the state of the pods ${selector}`,
    command: `kubectl get pods --selector ${selector} --namespace ${t.namespace} --output jsonpath='{range .items[*]}{.metadata.name}|{.spec.containers[0].image}|{.status.containerStatuses[0].state.waiting.reason}|{.status.containerStatuses[0].restartCount}|{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'`,
    rules: [core(["pods"], ["list"])],
  }),
  /** Reads the release number the stable Deployment runs (empty before the first release). */
  readRelease: (t: ClusterTargets): ClusterOperation => ({
    description: `read the release ${t.stableDeployment} runs`,
    command: `kubectl get deployment/${t.stableDeployment} --namespace ${t.namespace} --output jsonpath='${annotationPath(releaseAnnotation)}'`,
    rules: [apps(["deployments"], ["get"], [t.stableDeployment])],
  }),
  /** Records the release number the stable Deployment now runs. */
  setRelease: (t: ClusterTargets, release: string): ClusterOperation => ({
    description: `record the release ${t.stableDeployment} runs`,
    command: `kubectl annotate deployment/${t.stableDeployment} ${releaseAnnotation}=${release} --overwrite --namespace ${t.namespace}`,
    rules: [apps(["deployments"], ["get", "patch"], [t.stableDeployment])],
  }),
  /** Records on the canary's Deployment the run that deploys it ("$GITHUB_RUN_ID") and its expiry (Unix seconds). */
  claimCanary: (t: ClusterTargets, expiresAt: string, run: string): ClusterOperation => ({
    description: `record which run deploys ${t.canaryDeployment} and when it expires`,
    command: `kubectl annotate deployment/${t.canaryDeployment} ${canaryExpiryAnnotation}=${expiresAt} ${canaryRunAnnotation}=${run} --overwrite --namespace ${t.namespace}`,
    rules: [apps(["deployments"], ["get", "patch"], [t.canaryDeployment])],
  }),
  /**
   * Reads the canary's Deployment as `expiry|run|image|replicas|ready|updated|resourceVersion`
   * (an unset field empty): what a promotion checks at the moment it acts, and what a clean-up
   * reads before it scales the canary to 0.
   */
  readCanaryState: (t: ClusterTargets): ClusterOperation => ({
    description: `read ${t.canaryDeployment}: its run, expiry, image and readiness`,
    command: `kubectl get deployment/${t.canaryDeployment} --namespace ${t.namespace} --output jsonpath='${annotationPath(canaryExpiryAnnotation)}|${annotationPath(canaryRunAnnotation)}|{.spec.template.spec.containers[0].image}|{.spec.replicas}|{.status.readyReplicas}|{.status.updatedReplicas}|{.metadata.resourceVersion}'`,
    rules: [apps(["deployments"], ["get"], [t.canaryDeployment])],
  }),
  /**
   * Scales the canary to 0 provided its resourceVersion is still "$1", the one read with it: kubectl
   * scale --resource-version gets the scale subresource, checks the version and updates it with
   * that version, which the API server refuses (409) when another run changed the Deployment since
   * (k8s.io/kubectl pkg/scale ScaleSimple).
   */
  scaleCanaryDownIfUnchanged: (t: ClusterTargets): ClusterOperation => ({
    description: `scale ${t.canaryDeployment} to 0 unless it changed since it was read`,
    command: `kubectl scale deployment/${t.canaryDeployment} --replicas=0 --resource-version="$1" --namespace ${t.namespace}`,
    rules: [
      apps(["deployments"], ["get"], [t.canaryDeployment]),
      apps(["deployments/scale"], ["get", "update"], [t.canaryDeployment]),
    ],
  }),
  /** The canary reaper: reads the canary Deployment (its expiry, replicas and resourceVersion) from the API server. */
  readCanary: (t: ClusterTargets): ClusterOperation => ({
    description: `read ${t.canaryDeployment} for its expiry`,
    command: apiServerRequest("", canaryPath(t)),
    rules: [apps(["deployments"], ["get"], [t.canaryDeployment])],
  }),
  /**
   * The canary reaper: scales the canary to 0 through the scale subresource, provided its
   * resourceVersion is still the one read, its argument "$1" (else the API server answers 409).
   */
  reapCanary: (t: ClusterTargets): ClusterOperation => ({
    description: `scale an expired ${t.canaryDeployment} to 0`,
    command: apiServerRequest(
      ` --request PATCH --header 'Content-Type: application/merge-patch+json' --data "{\\"metadata\\":{\\"resourceVersion\\":\\"$1\\"},\\"spec\\":{\\"replicas\\":0}}"`,
      `${canaryPath(t)}/scale`,
    ),
    rules: [apps(["deployments/scale"], ["patch"], [t.canaryDeployment])],
  }),
  /** Creates a pod from its manifest, the file the command's first argument names ("$1"; no attach, no exec). */
  createPod: (t: ClusterTargets, pod: CreatedPod): ClusterOperation => ({
    description: `start the pod ${pod.name}`,
    command: `kubectl create --filename "$1" --namespace ${t.namespace}`,
    rules: [core(["pods"], ["create"])],
    createsPod: pod,
  }),
  /**
   * Reads a pod's phase (Pending, Running, Succeeded, Failed). The runners poll it
   * (pod-wait.sh `wait_for_pod`): a Failed pod ends the wait at once, where `kubectl wait
   * --for=jsonpath=…=Succeeded` would wait out its timeout for a phase that never comes.
   */
  podPhase: (t: ClusterTargets, pod: string): ClusterOperation => ({
    description: `read the phase of the pod ${pod}`,
    command: `kubectl get pod/${pod} --ignore-not-found --namespace ${t.namespace} --output jsonpath='{.status.phase}'`,
    rules: [core(["pods"], ["get"], [pod])],
  }),
  /** Reads a pod's report (its log). */
  podLogs: (t: ClusterTargets, pod: string): ClusterOperation => ({
    description: `read the report of ${pod}`,
    command: `kubectl logs pod/${pod} --namespace ${t.namespace}`,
    rules: [core(["pods"], ["get"], [pod]), core(["pods/log"], ["get"], [pod])],
  }),
  /**
   * Removes a pod without waiting: the runners then poll its phase until it is gone
   * (pod-wait.sh `remove_pod_and_wait`). kubectl delete's own wait lists and watches the
   * pod, and when that is refused it returns without waiting and without an error
   * (k8s.io/kubectl pkg/cmd/delete: a Forbidden wait is ignored), so it could not be relied on.
   */
  deletePod: (t: ClusterTargets, pod: string): ClusterOperation => ({
    description: `remove the pod ${pod}`,
    command: `kubectl delete pod/${pod} --ignore-not-found --wait=false --namespace ${t.namespace}`,
    rules: [core(["pods"], ["delete"], [pod])],
  }),
} as const;

/**
 * A merge patch of the Rollout's status subresource, provided its resourceVersion is still "$1",
 * the one read with it (the API server refuses a stale one: 409). kubectl gets the status
 * subresource first, then patches it (the real authoriser's verdict: test/cluster/argo-rollouts.test.ts). These are the requests Argo
 * Rollouts' kubectl plugin makes for `promote --full` and `abort` (pkg/kubectl-argo-rollouts/cmd),
 * with the precondition added, so that nothing acts on a Rollout that moved on since it was judged.
 */
const rolloutStatusPatch = (t: ClusterTargets & { rollout: string }, status: string) =>
  `kubectl patch rollout/${t.rollout} --subresource=status --type=merge --patch "{\\"metadata\\":{\\"resourceVersion\\":\\"$1\\"},\\"status\\":${status}}" --namespace ${t.namespace}`;

/** The operations of canaryEngine argo-rollouts: the Rollout is the controller's; the workflow sets, reads, promotes and aborts. */
export const rolloutOperations = {
  /** Reads the release number stable runs (empty before the first release). */
  readRelease: (t: ReturnType<typeof clusterTargets>): ClusterOperation => ({
    description: `read the release rollout/${t.rollout} runs`,
    command: `kubectl get rollout/${t.rollout} --namespace ${t.namespace} --output jsonpath='${annotationPath(releaseAnnotation)}'`,
    rules: [argo(["rollouts"], ["get"], [t.rollout])],
  }),
  /** Records the release number stable now runs. */
  setRelease: (t: ReturnType<typeof clusterTargets>, release: string): ClusterOperation => ({
    description: `record the release rollout/${t.rollout} runs`,
    command: `kubectl annotate rollout/${t.rollout} ${releaseAnnotation}=${release} --overwrite --namespace ${t.namespace}`,
    rules: [argo(["rollouts"], ["get", "patch"], [t.rollout])],
  }),
  /** Records on the Rollout the run that releases to it ("$GITHUB_RUN_ID"): a promotion and a clean-up act only on their own run's canary. */
  claim: (t: ReturnType<typeof clusterTargets>, run: string): ClusterOperation => ({
    description: `record which run releases to rollout/${t.rollout}`,
    command: `kubectl annotate rollout/${t.rollout} ${canaryRunAnnotation}=${run} --overwrite --namespace ${t.namespace}`,
    rules: [argo(["rollouts"], ["get", "patch"], [t.rollout])],
  }),
  /**
   * Points the Rollout's container at an image: a JSON patch that first tests the container's name
   * (kubectl set image knows no custom resource). The controller starts the canary steps.
   */
  setImage: (t: ReturnType<typeof clusterTargets>, image: string): ClusterOperation => ({
    description: `set the image of rollout/${t.rollout}`,
    command: `kubectl patch rollout/${t.rollout} --type=json --patch "[{\\"op\\":\\"test\\",\\"path\\":\\"/spec/template/spec/containers/0/name\\",\\"value\\":\\"${t.container}\\"},{\\"op\\":\\"replace\\",\\"path\\":\\"/spec/template/spec/containers/0/image\\",\\"value\\":\\"${image}\\"}]" --namespace ${t.namespace}`,
    rules: [argo(["rollouts"], ["get", "patch"], [t.rollout])],
  }),
  /**
   * Reads the Rollout as `run|image|generation|observedGeneration|phase|step|abort|stableRS|currentPodHash|resourceVersion|abortedAt|pausedAt|message`
   * (an unset field empty; the message last, as it may hold `|`): what the verdict's wait, the
   * promotion and the abort judge.
   */
  readState: (t: ReturnType<typeof clusterTargets>): ClusterOperation => ({
    description: `read rollout/${t.rollout}: its run, image, phase and step`,
    command: `kubectl get rollout/${t.rollout} --namespace ${t.namespace} --output jsonpath='${annotationPath(canaryRunAnnotation)}|{.spec.template.spec.containers[0].image}|{.metadata.generation}|{.status.observedGeneration}|{.status.phase}|{.status.currentStepIndex}|{.status.abort}|{.status.stableRS}|{.status.currentPodHash}|{.metadata.resourceVersion}|{.status.abortedAt}|{.status.pauseConditions[0].startTime}|{.status.message}'`,
    rules: [argo(["rollouts"], ["get"], [t.rollout])],
  }),
  /** Promotes the canary fully (the remaining steps skipped), unless the Rollout changed since it was read. */
  promoteIfUnchanged: (t: ReturnType<typeof clusterTargets>): ClusterOperation => ({
    description: `promote rollout/${t.rollout} unless it changed since it was read`,
    command: rolloutStatusPatch(t, '{\\"promoteFull\\":true}'),
    rules: [argo(["rollouts"], ["get"], [t.rollout]), argo(["rollouts/status"], ["get", "patch"], [t.rollout])],
  }),
  /** Aborts the canary (the controller scales it to 0 and stable back to every replica), unless the Rollout changed since it was read. */
  abortIfUnchanged: (t: ReturnType<typeof clusterTargets>): ClusterOperation => ({
    description: `abort rollout/${t.rollout} unless it changed since it was read`,
    command: rolloutStatusPatch(t, '{\\"abort\\":true}'),
    rules: [argo(["rollouts"], ["get"], [t.rollout]), argo(["rollouts/status"], ["get", "patch"], [t.rollout])],
  }),
} as const;

/** The operations of one script by what they do (script-files.ts: each a shell function of its name). */
export type NamedOperations = Readonly<Record<string, ClusterOperation>>;
/** The operations of a record, in its order: what the Role's rules are derived from (rulesFor). */
export const operationList = (operations: NamedOperations): ClusterOperation[] => Object.values(operations);
