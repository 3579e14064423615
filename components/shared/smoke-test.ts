// The in-cluster smoke test: one definition, run by the pipeline's canary job and by `pulumi up`.
// A short-lived pod requests each smoke path several times through the canary Service (every
// request reaches a canary pod) and through the main Service, and reports status and latency of
// each. The runner creates the pod, waits for it, reads its report and removes it: no attach and
// no exec, so the deployer needs neither: they let a holder run commands in pods (Polaris's
// rolePodExecAttach check flags a Role that allows them). Both scripts are files
// (components/scripts/smoke-test-runner.sh, smoke-test-pod.sh); this module gives their parameters.
import { clusterOperations, type ClusterOperation, type ClusterTargets } from "./cluster-operations";
import { defaultSmokeRequests } from "../../config/constants";
import { composeScript, operationPreamble, scriptText, shellFileParameter, shellParameters } from "./script-files";

/** curl's own image, pinned by digest; it runs as the unprivileged curl_user (uid 100). */
export const smokeTestImage =
  "curlimages/curl:8.11.1@sha256:c1fe1679c34d9784c1b0d1e5f62ac0a79fca01fb6377cdd33e90473c6f9f9a69";
export const smokeTestUser = 100;

/** The port both Services expose (targeting the container port named `http`). */
export const servicePort = 80;

/** Requests per smoke path and Service when the stack does not say (the smokeRequests setting's default, in config/constants.ts). */
export { defaultSmokeRequests };

export interface SmokeTestSpec {
  readonly targets: ClusterTargets & { readonly mainService: string; readonly canaryService: string };
  readonly appName: string;
  /** The pod's name: the release's and `pulumi up`'s differ (targets.smokeTestPod, targets.upSmokeTestPod). */
  readonly podName: string;
  /** Paths requested, each `requestsPerPath` times through each Service. */
  readonly paths: readonly string[];
  readonly requestsPerPath?: number;
  /** A request slower than this fails. */
  readonly maxLatencySeconds: number;
  /**
   * The Services requested. Default: both. At rest the canary has no pods and its Service no
   * endpoints, so a test after `pulumi up` requests the main Service only.
   */
  readonly through?: readonly ("canary" | "main")[];
}

const requestsOf = (spec: SmokeTestSpec) => spec.requestsPerPath ?? defaultSmokeRequests;
const servicesOf = (spec: SmokeTestSpec) => spec.through ?? ["canary", "main"];
/** A request is cut off one second after it has already failed on latency. */
export const requestTimeoutSeconds = (maxLatencySeconds: number) => Math.ceil(maxLatencySeconds) + 1;
const requestTimeout = (spec: SmokeTestSpec) => requestTimeoutSeconds(spec.maxLatencySeconds);

/** How long the pod may run: every request at its cut-off, plus start-up. */
export function smokeTestDeadlineSeconds(spec: SmokeTestSpec): number {
  return requestsOf(spec) * spec.paths.length * servicesOf(spec).length * requestTimeout(spec) + 30;
}

/** How long the runner waits for the pod to finish: past its deadline, so a stuck pod ends the wait. */
export const smokeTestWaitSeconds = (spec: SmokeTestSpec) => smokeTestDeadlineSeconds(spec) + 30;

/** A Service's URL inside the cluster. */
export const serviceBaseUrl = (namespace: string, service: string) =>
  `http://${service}.${namespace}.svc.cluster.local:${servicePort}`;
const serviceUrl = (spec: SmokeTestSpec, service: string, path: string) =>
  `${serviceBaseUrl(spec.targets.namespace, service)}${path}`;

/**
 * The pod's parameters (components/scripts/smoke-test-pod.sh): each target, a Service and a URL,
 * is requested `requestsPerPath` times, the canary Service's targets first.
 */
export function smokeTestPodParameters(spec: SmokeTestSpec): Record<string, string | number> {
  const service = { canary: spec.targets.canaryService, main: spec.targets.mainService };
  const targets = servicesOf(spec).flatMap((through) =>
    spec.paths.map((p) => [through, serviceUrl(spec, service[through], p)] as const),
  );
  return {
    SMOKE_REQUESTS: requestsOf(spec),
    SMOKE_TARGETS: targets.length,
    ...Object.fromEntries(
      targets.flatMap(([through, url], i) => [
        [`SMOKE_TARGET_${i + 1}_SERVICE`, through],
        [`SMOKE_TARGET_${i + 1}_URL`, url],
      ]),
    ),
    ...requestCheckParameters(spec.maxLatencySeconds),
  };
}

/**
 * The script the pod runs: its parameters, then pod-functions.sh and smoke-test-pod.sh. One line
 * per request (`PASS|FAIL <service> <status> <seconds>s <url>`), then `RESULT pass` or `RESULT
 * fail`. It always exits 0 so that the runner's wait ends at once; the verdict is the RESULT line.
 */
export function smokeTestPodScript(spec: SmokeTestSpec): string {
  return composeScript(
    shellParameters(smokeTestPodParameters(spec), { exported: true }),
    scriptText("pod-functions.sh"),
    scriptText("smoke-test-pod.sh"),
  );
}

/**
 * The parameters of `check SERVICE URL` (components/scripts/pod-functions.sh), which the smoke test
 * and the bake window share: a status other than 200, a failed connection or a response slower
 * than `maxLatencySeconds` fails a request.
 */
export function requestCheckParameters(maxLatencySeconds: number): {
  MAX_LATENCY_SECONDS: number;
  REQUEST_TIMEOUT_SECONDS: number;
} {
  return { MAX_LATENCY_SECONDS: maxLatencySeconds, REQUEST_TIMEOUT_SECONDS: requestTimeoutSeconds(maxLatencySeconds) };
}

/** What differs between the pipeline's curl pods: everything else is the same hardening. */
export interface CurlPodSpec {
  readonly name: string;
  readonly namespace: string;
  readonly appName: string;
  /** The container's name, and the `app.kubernetes.io/name` label's suffix. */
  readonly role: string;
  readonly script: string;
  readonly deadlineSeconds: number;
}

/**
 * A pod of the pipeline's pinned curl image running one sh script: restricted-profile hardening,
 * no volumes, no service account token, bounded in time. The smoke test and the bake window run in
 * one of these, so the deployer's admission policy has one shape to admit.
 */
export function curlPod(pod: CurlPodSpec): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      labels: { "app.kubernetes.io/name": `${pod.appName}-${pod.role}`, "app.kubernetes.io/part-of": pod.appName },
    },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      activeDeadlineSeconds: pod.deadlineSeconds,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: smokeTestUser,
        runAsGroup: smokeTestUser,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: pod.role,
          image: smokeTestImage,
          command: ["/bin/sh", "-c", pod.script],
          resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
          },
        },
      ],
    },
  };
}

/** The smoke-test pod. */
export function smokeTestPod(spec: SmokeTestSpec): Record<string, unknown> {
  return curlPod({
    name: spec.podName,
    namespace: spec.targets.namespace,
    appName: spec.appName,
    role: "smoke-test",
    script: smokeTestPodScript(spec),
    deadlineSeconds: smokeTestDeadlineSeconds(spec),
  });
}

/** The cluster operations of the smoke test's runner, by the name it calls each by (in order of use). */
export type SmokeTestOperations = {
  readonly removePod: ClusterOperation;
  /** Its argument: the manifest's file. */
  readonly createPod: ClusterOperation;
  /** The pod's phase, which the runner polls until it has finished (pod-wait.sh). */
  readonly podPhase: ClusterOperation;
  readonly podLogs: ClusterOperation;
};

/** The cluster operations the runner performs (operationList: the Role's). */
export function smokeTestOperations(spec: SmokeTestSpec): SmokeTestOperations {
  const t = spec.targets;
  return {
    removePod: clusterOperations.deletePod(t, spec.podName),
    createPod: clusterOperations.createPod(t, { name: spec.podName, image: smokeTestImage }),
    podPhase: clusterOperations.podPhase(t, spec.podName),
    podLogs: clusterOperations.podLogs(t, spec.podName),
  };
}

/**
 * The runner, a bash script for the pipeline and for `pulumi up`: its operations' functions, the
 * pod's manifest, then components/scripts/smoke-test-runner.sh, which runs the pod, prints its
 * report (and appends it to $GITHUB_STEP_SUMMARY when there is one), removes the pod and fails
 * unless every request passed.
 */
export function smokeTestRunner(spec: SmokeTestSpec): string {
  return composeScript(
    operationPreamble(smokeTestOperations(spec)),
    shellParameters({ POD_WAIT_SECONDS: smokeTestWaitSeconds(spec) }),
    shellFileParameter("SMOKE_POD_MANIFEST", JSON.stringify(smokeTestPod(spec), null, 2)),
    scriptText("pod-wait.sh"),
    scriptText("smoke-test-runner.sh"),
  );
}
