// The canary reaper on the real API server: its CronJob and its pods admitted under Pod Security
// restricted, its exact script scaling an expired canary to 0 as the reaper's own ServiceAccount,
// leaving an unexpired or resting canary alone, refused (409) when the canary changed between its
// read and its write, and least privilege proved by the authoriser.
// kwok runs no container: the Job's pod is created and admitted but nothing executes in it, so the
// script runs on this host, with /usr/bin/curl and sh, against the same API server, with a token
// of the reaper's ServiceAccount and the cluster CA (the script's API_SERVER, TOKEN_FILE, CA_FILE).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { CanaryCluster } from "../../components/cluster/canary-cluster";
import { ClientSideApplyProvider } from "../../components/cluster/client-side-apply-provider";
import { tokenKubeconfig } from "../../components/cluster/namespaced-identity";
import { reaperErrorExit, reaperScript } from "../../components/shared/canary-expiry";
import { canaryExpiryAnnotation, clusterTargets, type PolicyRule } from "../../components/shared/cluster-operations";
import { deployOperations } from "../../components/repository/workflows/deploy";
import {
  adminKubectl,
  adminKubeconfig,
  clusterAccess,
  kubeconfigFile,
  serviceConfig,
  tierStack,
  toolsBin,
  waitUntil,
} from "./tier";
import { writeSmokeReport } from "./release";

const { server, caData } = clusterAccess();
const config = serviceConfig({
  githubOwner: "acme",
  githubRepository: "reaped",
  appName: "reaped",
  namespace: "reaper-tier",
  clusterAuth: "token",
  clusterEndpoint: server,
  clusterCaData: caData,
  replicas: 2,
  canaryWeight: 33,
  initialImage: "ghcr.io/acme/reaped:1.0.0",
  smokeTestOnUp: true,
});
const ns = config.namespace;
const t = clusterTargets(config);
const reaper = "reaped-canary-reaper";

const program = () => {
  const provider = new ClientSideApplyProvider("tier-cluster", {
    kubeconfig: fs.readFileSync(adminKubeconfig, "utf8"),
  });
  new CanaryCluster(config.appName, { config, operations: deployOperations(config), provider });
  return Promise.resolve({});
};

const kubectl = (args: string[]) => adminKubectl([...args, "--namespace", ns]);
const now = () => Math.floor(Date.now() / 1000);
const canaryReplicas = () =>
  Number(kubectl(["get", "deployment", t.canaryDeployment, "--output", "jsonpath={.spec.replicas}"]));

/** As the admin: the canary's expiry (none: removed) and its replica count. */
function arm(expiresAt: number | undefined, replicas: number): void {
  kubectl([
    "annotate",
    `deployment/${t.canaryDeployment}`,
    expiresAt === undefined ? `${canaryExpiryAnnotation}-` : `${canaryExpiryAnnotation}=${expiresAt}`,
    "--overwrite",
  ]);
  kubectl(["scale", `deployment/${t.canaryDeployment}`, `--replicas=${replicas}`]);
}

describe("the canary reaper, on the real API server", () => {
  let stack: Stack;
  let identity: { dir: string; token: string; ca: string; kubeconfig: string };

  /** The reaper's exact script, run on this host as the reaper's ServiceAccount; `pathFirst` goes first on PATH. */
  const runScript = (pathFirst?: string) =>
    spawnSync("sh", ["-c", reaperScript(t)], {
      encoding: "utf8",
      timeout: 30_000,
      env: {
        PATH: [pathFirst, "/usr/bin", "/bin"].filter(Boolean).join(":"),
        API_SERVER: server,
        TOKEN_FILE: identity.token,
        CA_FILE: identity.ca,
      },
    });

  before(async () => {
    stack = await tierStack("reaper", program);
    writeSmokeReport(config, "pass");
    assert.equal((await stack.up()).summary.result, "succeeded");
    const dir = fs.mkdtempSync(path.join(path.dirname(adminKubeconfig), "reaper-"));
    const token = kubectl(["create", "token", reaper, "--duration=10m"]).trim();
    identity = {
      dir,
      token: path.join(dir, "token"),
      ca: path.join(dir, "ca.crt"),
      kubeconfig: kubeconfigFile(tokenKubeconfig({ name: reaper, server, caData, namespace: ns, token })),
    };
    fs.writeFileSync(identity.token, token, { mode: 0o600 });
    fs.writeFileSync(identity.ca, Buffer.from(caData, "base64"));
  });
  after(async () => {
    if (identity) fs.rmSync(identity.dir, { recursive: true, force: true });
    await stack?.workspace.removeStack("tier", { force: true }).catch(() => undefined);
    spawnSync(path.join(toolsBin, "kubectl"), [
      "--kubeconfig",
      adminKubeconfig,
      "delete",
      "namespace",
      ns,
      "--wait=false",
    ]);
  });

  test("a: the CronJob is admitted, and a Job from it gets its pod under Pod Security restricted, with the reaper's account and token", () => {
    const cron = JSON.parse(kubectl(["get", "cronjob", reaper, "--output", "json"])) as {
      spec: { schedule: string; concurrencyPolicy: string };
    };
    assert.deepEqual([cron.spec.schedule, cron.spec.concurrencyPolicy], ["* * * * *", "Forbid"]);
    assert.equal(
      adminKubectl([
        "get",
        "namespace",
        ns,
        "--output",
        "jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}",
      ]),
      "restricted",
    );
    // As the CronJob controller would at the next minute, without waiting for it.
    kubectl(["create", "job", "reaper-now", `--from=cronjob/${reaper}`]);
    const pods = () =>
      (
        JSON.parse(
          kubectl(["get", "pods", "--selector", "batch.kubernetes.io/job-name=reaper-now", "--output", "json"]),
        ) as {
          items: {
            spec: {
              serviceAccountName: string;
              volumes?: { projected?: { sources: { serviceAccountToken?: unknown }[] } }[];
              containers: { image: string }[];
            };
          }[];
        }
      ).items;
    waitUntil("the Job's pod", () => pods().length === 1, 30);
    const [pod] = pods();
    assert.equal(pod.spec.serviceAccountName, reaper);
    assert.ok(
      pod.spec.volumes?.some((v) => v.projected?.sources.some((s) => s.serviceAccountToken)),
      "its bound token is mounted",
    );
    // The Pod Security admission refuses what the namespace's profile forbids, so the pod above passed it.
    const events = kubectl([
      "get",
      "events",
      "--field-selector",
      "involvedObject.name=reaper-now",
      "--output",
      'jsonpath={range .items[*]}{.reason} {.message}{"\\n"}{end}',
    ]);
    assert.doesNotMatch(events, /FailedCreate|violates PodSecurity/);
  });

  test("b: as the reaper, the script scales an expired canary to 0, leaves an unexpired one and one at rest alone, and one with no expiry", () => {
    arm(now() - 10, 1);
    const reaped = runScript();
    assert.equal(reaped.status, 0, reaped.stdout + reaped.stderr);
    // The Deployment controller's status updates may change the resourceVersion under the first read: the script reads again.
    assert.match(reaped.stdout, /^reaped: reaped-canary scaled from 1 to 0 replicas/m);
    assert.equal(canaryReplicas(), 0);

    arm(now() + 600, 1);
    const unexpired = runScript();
    assert.equal(unexpired.status, 0, unexpired.stdout + unexpired.stderr);
    assert.match(unexpired.stdout, /^not expired: reaped-canary expires at \d+, in \d+ s$/m);
    assert.equal(canaryReplicas(), 1);

    arm(now() - 10, 0);
    const resting = runScript();
    assert.equal(resting.stdout, "at rest: reaped-canary has 0 replicas\n", resting.stderr);
    assert.equal(canaryReplicas(), 0);

    arm(undefined, 1);
    const none = runScript();
    assert.equal(none.stdout, "no expiry: reaped-canary records none, nothing to do\n", none.stderr);
    assert.equal(canaryReplicas(), 1);
  });

  test("b: a canary re-armed between the script's read and its patch is not reaped: the API server answers 409 to the stale resourceVersion", () => {
    arm(now() - 10, 1);
    // A test-only stand-in for curl, first on PATH: before the scale-down it re-arms the canary as
    // the admin (a new release's canary job would), then runs the real curl with the script's request.
    const shim = fs.mkdtempSync(path.join(identity.dir, "shim-"));
    const rearm = [
      path.join(toolsBin, "kubectl"),
      "--kubeconfig",
      adminKubeconfig,
      "annotate",
      `deployment/${t.canaryDeployment}`,
      `${canaryExpiryAnnotation}=${now() + 3600}`,
      "--overwrite",
      "--namespace",
      ns,
    ];
    fs.writeFileSync(
      path.join(shim, "curl"),
      [
        "#!/bin/sh",
        `case " $* " in *" --request PATCH "*) ${rearm.map((a) => `'${a}'`).join(" ")} >/dev/null || exit 99 ;; esac`,
        'exec /usr/bin/curl "$@"',
      ].join("\n"),
      { mode: 0o755 },
    );
    const run = runScript(shim);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    // The API server refused the stale resourceVersion; read again, the new expiry leaves the canary alone.
    assert.match(
      run.stdout,
      /^conflict: reaped-canary changed since it was read \(resourceVersion \d+\); reading it again\nnot expired: reaped-canary expires at \d+/,
    );
    assert.equal(canaryReplicas(), 1, "the re-armed canary still serves");
  });

  test("c: without either rule of its Role the script fails Forbidden; the identity can do nothing else", () => {
    const live = JSON.parse(kubectl(["get", "role", reaper, "--output", "json"])) as {
      metadata: { labels: Record<string, string> };
      rules: PolicyRule[];
    };
    const role = (rules: readonly PolicyRule[]) =>
      JSON.stringify({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: reaper, namespace: ns, labels: live.metadata.labels },
        rules,
      });
    assert.equal(live.rules.length, 2);
    assert.ok(
      live.rules.every((r) => r.verbs.length === 1),
      "one verb per rule: each rule is one verb to take away",
    );
    try {
      for (const [index, rule] of live.rules.entries()) {
        arm(now() - 10, 1);
        adminKubectl(["replace", "--filename", "-"], role(live.rules.filter((_, i) => i !== index)));
        let run = runScript();
        // The authoriser reads Roles through an informer: the change lands within moments.
        waitUntil(
          `the script refused without ${rule.verbs[0]} ${rule.resources[0]}`,
          () => (run = runScript()).status === reaperErrorExit,
          10,
        );
        assert.match(
          run.stdout,
          /answered HTTP 403: .*forbidden/i,
          `${rule.verbs[0]} ${rule.resources[0]}: ${run.stdout}`,
        );
        assert.equal(canaryReplicas(), 1);
        adminKubectl(["replace", "--filename", "-"], role(live.rules));
        waitUntil("the reaper reaps again", () => runScript().status === 0 && canaryReplicas() === 0, 10);
      }
    } finally {
      adminKubectl(["replace", "--filename", "-"], role(live.rules));
    }

    const attempts: string[][] = [
      ["set", "image", `deployment/${t.canaryDeployment}`, `${t.container}=ghcr.io/acme/evil:1`],
      ["annotate", `deployment/${t.canaryDeployment}`, `${canaryExpiryAnnotation}=9999999999`, "--overwrite"],
      ["scale", `deployment/${t.stableDeployment}`, "--replicas=0"],
      ["get", "deployment", t.stableDeployment],
      ["get", "deployments"],
      ["get", "secrets"],
      ["get", "secret", "reaped-deployer-token"],
      ["run", "intruder", "--image=busybox", "--dry-run=server"],
      ["create", "job", "intruder", `--from=cronjob/${reaper}`, "--dry-run=server"],
      ["delete", "deployment", t.canaryDeployment, "--dry-run=server"],
      ["get", "deployments", "--namespace", "default"],
    ];
    const allowed = attempts.filter((args) => {
      const run = spawnSync(
        path.join(toolsBin, "kubectl"),
        ["--kubeconfig", identity.kubeconfig, ...(args.includes("--namespace") ? args : [...args, "--namespace", ns])],
        { encoding: "utf8", timeout: 20_000 },
      );
      return !(run.status !== 0 && /forbidden/i.test(run.stderr));
    });
    assert.deepEqual(allowed, []);
  });
});
