// The in-cluster smoke test: one definition, run by the pipeline's canary job and by `pulumi up`.
// A short-lived pod requests each smoke path several times through the canary Service (every
// request reaches a canary pod) and through the main Service, and reports status and latency of
// each. The runner creates the pod, waits for it, reads its report and removes it: no attach and
// no exec, so the deployer needs neither: they let a holder run commands in pods (Polaris's
// rolePodExecAttach check flags a Role that allows them).
import { clusterOperations, type ClusterOperation, type ClusterTargets } from "./cluster-operations";
import { defaultSmokeRequests } from "../../config/constants";

/** curl's own image, pinned by digest; it runs as the unprivileged curl_user (uid 100). */
export const smokeTestImage = "curlimages/curl:8.11.1@sha256:c1fe1679c34d9784c1b0d1e5f62ac0a79fca01fb6377cdd33e90473c6f9f9a69";
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
export const smokeTestTimeout = (spec: SmokeTestSpec) => `${smokeTestDeadlineSeconds(spec) + 30}s`;

/** A Service's URL inside the cluster. */
export const serviceBaseUrl = (namespace: string, service: string) => `http://${service}.${namespace}.svc.cluster.local:${servicePort}`;
const serviceUrl = (spec: SmokeTestSpec, service: string, path: string) => `${serviceBaseUrl(spec.targets.namespace, service)}${path}`;

/**
 * The script the pod runs. One line per request (`PASS|FAIL <service> <status> <seconds>s <url>`),
 * then `RESULT pass` or `RESULT fail`. It always exits 0 so that the runner's wait ends at once;
 * the verdict is the RESULT line.
 */
export function smokeTestPodScript(spec: SmokeTestSpec): string {
  const requests = requestsOf(spec);
  const service = { canary: spec.targets.canaryService, main: spec.targets.mainService };
  const targets = servicesOf(spec).flatMap((through) => spec.paths.map((p) => [through, serviceUrl(spec, service[through], p)] as const));
  return [
    ...requestCheck(spec.maxLatencySeconds),
    ...targets.map(([service, url]) => `for i in $(seq ${requests}); do check ${service} '${url}'; done`),
    "if [ \"$failed\" = 0 ]; then echo 'RESULT pass'; else echo 'RESULT fail'; fi",
  ].join("\n");
}

/**
 * The shell function `check SERVICE URL` both the smoke test and the bake window use: one request,
 * one line (`PASS|FAIL <service> <status> <seconds>s <url>`); a status other than 200, a failed
 * connection or a response slower than `maxLatencySeconds` fails it and sets `failed=1`.
 */
export function requestCheck(maxLatencySeconds: number): string[] {
  return [
    `max=${maxLatencySeconds}`,
    "failed=0",
    "check() {",
    `  out=$(curl --silent --output /dev/null --max-time ${requestTimeoutSeconds(maxLatencySeconds)} --write-out '%{http_code} %{time_total}' "$2") || out="000 \${out#* }"`,
    "  status=${out% *}; seconds=${out#* }",
    "  if [ \"$status\" = 200 ] && awk -v s=\"$seconds\" -v m=\"$max\" 'BEGIN { exit !(s <= m) }'; then verdict=PASS; else verdict=FAIL; failed=1; fi",
    "  echo \"$verdict $1 $status ${seconds}s $2\"",
    "}",
  ];
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
      securityContext: { runAsNonRoot: true, runAsUser: smokeTestUser, runAsGroup: smokeTestUser, seccompProfile: { type: "RuntimeDefault" } },
      containers: [{
        name: pod.role,
        image: smokeTestImage,
        command: ["/bin/sh", "-c", pod.script],
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } },
      }],
    },
  };
}

/** The smoke-test pod. */
export function smokeTestPod(spec: SmokeTestSpec): Record<string, unknown> {
  return curlPod({
    name: spec.podName, namespace: spec.targets.namespace, appName: spec.appName, role: "smoke-test",
    script: smokeTestPodScript(spec), deadlineSeconds: smokeTestDeadlineSeconds(spec),
  });
}

/** The cluster operations the runner performs, in order. */
export function smokeTestOperations(spec: SmokeTestSpec, manifestFile: string): ClusterOperation[] {
  const t = spec.targets;
  return [
    clusterOperations.deletePod(t, spec.podName),
    clusterOperations.createPod(t, manifestFile, { name: spec.podName, image: smokeTestImage }),
    clusterOperations.waitPod(t, spec.podName, smokeTestTimeout(spec)),
    clusterOperations.podLogs(t, spec.podName),
  ];
}

/**
 * The runner, a bash script for the pipeline and for `pulumi up`: it writes the pod manifest,
 * runs the pod, prints its report (and appends it to $GITHUB_STEP_SUMMARY when there is one),
 * removes the pod and fails unless every request passed.
 */
export function smokeTestRunner(spec: SmokeTestSpec): string {
  const manifest = '"$manifest"';
  const [remove, create, wait, logs] = smokeTestOperations(spec, manifest).map((o) => o.command);
  return [
    "set -euo pipefail",
    'manifest="$(mktemp)"',
    `cat > "$manifest" <<'MANIFEST'`,
    JSON.stringify(smokeTestPod(spec), null, 2),
    "MANIFEST",
    `${remove}`,
    `trap '${remove.replace(/'/g, "'\\''")}' EXIT`,
    `${create}`,
    `${wait} || { echo "smoke test pod did not finish"; ${logs} || true; exit 1; }`,
    `report="$(${logs})"`,
    'echo "$report"',
    'if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then',
    '  { echo "### Smoke test"; echo; echo "| verdict | service | status | latency | url |"; echo "|---|---|---|---|---|";',
    "    echo \"$report\" | awk '$1 == \"PASS\" || $1 == \"FAIL\" { print \"| \" $1 \" | \" $2 \" | \" $3 \" | \" $4 \" | \" $5 \" |\" }'; } >> \"$GITHUB_STEP_SUMMARY\"",
    "fi",
    'echo "$report" | grep -qx "RESULT pass"',
  ].join("\n");
}
