// The canary reaper's objects: a CronJob every minute that never overlaps, bounded in time, under
// the restricted profile, with the pinned curl image and the script of canary-expiry.ts, running as
// an identity of its own whose Role is derived from the reaper's operations.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment --
   rendered objects are untyped YAML. */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { reaperOperations, reaperScript, reaperTiming } from "../../../components/shared/canary-expiry";
import { clusterTargets, operationList } from "../../../components/shared/cluster-operations";
import { rulesFor } from "../../../components/shared/rbac-rules";
import { smokeTestImage } from "../../../components/shared/smoke-test";
import { podSpecs, renderCluster, restrictedProblems, stackConfig, type ClusterRender } from "../cluster-render";

const name = "orders-dev.orders-api-canary-reaper";

for (const mode of ["token", "eks"] as const) {
  describe(`the canary reaper (clusterAuth ${mode})`, () => {
    let r: ClusterRender;
    before(async () => {
      r = await renderCluster(stackConfig(mode));
    });

    test("a CronJob every minute: never two runs at once, a bounded late start, one attempt, a bounded run, a short history", () => {
      const cron = r.object(`CronJob.${name}`);
      assert.deepEqual(cron.metadata.labels, {
        "app.kubernetes.io/name": "orders-api-canary-reaper",
        "app.kubernetes.io/part-of": "orders-api",
        "app.kubernetes.io/component": "canary-reaper",
      });
      const { jobTemplate, ...schedule } = cron.spec;
      assert.deepEqual(schedule, {
        schedule: "* * * * *",
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: reaperTiming.startingDeadlineSeconds,
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 3,
      });
      const { template, ...job } = jobTemplate.spec;
      assert.deepEqual(job, {
        backoffLimit: 0,
        activeDeadlineSeconds: reaperTiming.activeDeadlineSeconds,
        ttlSecondsAfterFinished: 3600,
      });
      assert.equal(template.spec.restartPolicy, "Never");
    });

    test("its pod: restricted profile, the pinned curl image, the reaper's script, its own account's token and nothing else", () => {
      const [pod] = podSpecs(r.object(`CronJob.${name}`));
      assert.deepEqual(restrictedProblems(pod, { apiToken: true }), []);
      const spec = pod as {
        serviceAccountName?: string;
        enableServiceLinks?: boolean;
        volumes?: unknown;
        containers: { image: string; command: string[]; env?: unknown }[];
      };
      assert.equal(spec.serviceAccountName, "orders-api-canary-reaper");
      assert.equal(spec.enableServiceLinks, false);
      assert.equal(spec.volumes, undefined);
      assert.equal(spec.containers.length, 1);
      const [container] = spec.containers;
      assert.equal(container.image, smokeTestImage);
      assert.deepEqual(container.command, ["/bin/sh", "-c", reaperScript(clusterTargets(r.config))]);
      assert.equal(container.env, undefined, "the script's defaults: the in-cluster API server, token and CA");
    });

    test("its identity: a ServiceAccount without a token of its own, a Role derived from the reaper's operations, bound to it alone", () => {
      const account = r.object(`ServiceAccount.${name}`);
      assert.equal(account.automountServiceAccountToken, false, "only the reaper's pods, which ask, get a token");
      assert.ok(
        ![...r.objects.keys()].some((id) => id.startsWith("Secret.") && id.includes("canary-reaper")),
        "no long-lived token Secret",
      );
      assert.deepEqual(
        r.object(`Role.${name}`).rules,
        rulesFor(operationList(reaperOperations(clusterTargets(r.config)))),
      );
      assert.deepEqual(r.object(`Role.${name}`).rules, [
        { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"], resourceNames: ["orders-api-canary"] },
        {
          apiGroups: ["apps"],
          resources: ["deployments/scale"],
          verbs: ["patch"],
          resourceNames: ["orders-api-canary"],
        },
      ]);
      const binding = r.object(`RoleBinding.${name}`);
      assert.deepEqual(binding.roleRef, {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: "orders-api-canary-reaper",
      });
      assert.deepEqual(binding.subjects, [
        { kind: "ServiceAccount", name: "orders-api-canary-reaper", namespace: "orders-dev" },
      ]);
    });

    test("children are named after the component, through the cluster's provider", () => {
      const reaper = r.options("orders-reaper");
      assert.equal(reaper.type, "canary-pipeline:kubernetes:CanaryReaper");
      for (const child of [
        "orders-reaper-cron-job",
        "orders-reaper-identity-role",
        "orders-reaper-identity-role-binding",
        "orders-reaper-identity-service-account",
      ]) {
        assert.ok(r.options(child).opts.provider !== undefined, `${child} names the cluster's provider`);
      }
    });
  });
}
