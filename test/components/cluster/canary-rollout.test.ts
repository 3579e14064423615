// The service under canaryEngine argo-rollouts (components/cluster/canary-rollout.ts and its wiring
// in canary-cluster.ts): one Rollout in place of the two Deployments, its AnalysisTemplates, three
// Services, no reaper; the controller's CRDs read (never declared); the deployer's and the rollback
// identity's Roles in the whole stack's render; and the two admission policies the engine adds,
// whose CEL is evaluated here for its one shape (unchanged fields) on the updates that matter.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any --
   rendered objects are untyped YAML. */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import { parse } from "yaml";
import { CanaryRollout } from "../../../components/cluster/canary-rollout";
import { releaseOwnedPaths } from "../../../components/cluster/canary-workload";
import { argoRolloutsCrds, rolloutPlan } from "../../../components/shared/argo-rollout";
import { progressDeadlineSeconds } from "../../../components/shared/rollout-timing";
import { servicePort } from "../../../components/shared/smoke-test";
import { readStackFile } from "../../../config/stack-file";
import { renderStack } from "../../../synth/render";
import { schemaProblems } from "../../../verify/kubernetes-schema";
import {
  parsePropertyPath,
  renderCluster,
  restrictedProblems,
  stackConfig,
  valueAt,
  type ClusterRender,
} from "../cluster-render";

const argo = { canaryEngine: "argo-rollouts" };
const rolloutId = "Rollout.orders-dev.orders-api";

describe("canary rollout (canaryEngine argo-rollouts)", () => {
  let r: ClusterRender;
  before(async () => {
    r = await renderCluster(stackConfig("eks", { ...argo, canaryBakeSeconds: 120 }), { preview: true });
  });
  const rollout = () => r.object(rolloutId);

  test("the Rollout: the declared replicas and pod template, selected by app, its canary steps those of the plan", () => {
    const spec = rollout().spec;
    assert.equal(rollout().apiVersion, "argoproj.io/v1alpha1");
    assert.equal(spec.replicas, 9);
    assert.deepEqual(spec.selector, { matchLabels: { app: "orders-api" } });
    assert.equal(spec.template.metadata.labels.app, "orders-api");
    assert.equal(spec.template.spec.containers[0].image, "ghcr.io/acme/orders-api:1.4.2");
    assert.deepEqual(spec.strategy.canary.steps, rolloutPlan(r.config).steps);
    assert.deepEqual(
      spec.strategy.canary.steps.map((s: object) => Object.keys(s)[0]),
      ["setWeight", "analysis", "analysis", "pause", "setWeight", "pause"],
    );
    assert.deepEqual(spec.strategy.canary.steps[0], { setWeight: 10 });
  });

  test("the canary and stable Services, track labels on each ReplicaSet's pods, one surge pod at a time", () => {
    const canary = rollout().spec.strategy.canary;
    assert.equal(canary.canaryService, "orders-api-canary");
    assert.equal(canary.stableService, "orders-api-stable");
    assert.deepEqual(canary.canaryMetadata, { labels: { track: "canary" } });
    assert.deepEqual(canary.stableMetadata, { labels: { track: "stable" } });
    assert.equal(canary.maxSurge, 1);
    assert.equal(canary.maxUnavailable, 0);
  });

  test("a step that makes no progress aborts the canary (progressDeadlineAbort), within one pod's bound", () => {
    const spec = rollout().spec;
    assert.equal(spec.progressDeadlineAbort, true);
    assert.equal(spec.progressDeadlineSeconds, progressDeadlineSeconds(r.config));
  });

  test("three Services select `app` (the controller narrows the canary's and stable's), on the port the container names", () => {
    for (const name of ["orders-api", "orders-api-canary", "orders-api-stable"]) {
      const service = r.object(`Service.orders-dev.${name}`);
      assert.deepEqual(service.spec.selector, { app: "orders-api" }, name);
      assert.deepEqual(service.spec.ports, [{ name: "http", port: servicePort, targetPort: "http", protocol: "TCP" }]);
    }
    assert.deepEqual(rollout().spec.template.spec.containers[0].ports, [
      { name: "http", containerPort: 3000, protocol: "TCP" },
    ]);
  });

  test("the AnalysisTemplates are the plan's, and the Rollout waits for them (a step naming a missing one fails)", () => {
    const plan = rolloutPlan(r.config);
    for (const t of plan.templates)
      assert.deepEqual(r.object(`AnalysisTemplate.orders-dev.${t.name}`).spec, { metrics: t.metrics });
    assert.equal([...r.objects.keys()].filter((k) => k.startsWith("AnalysisTemplate.")).length, plan.templates.length);
    const dependsOn = r.options("orders-workload-rollout").opts.dependsOn as unknown[];
    const templates = (r.cluster.workload as CanaryRollout).analysisTemplates;
    assert.equal(templates.length, 2);
    for (const t of templates) assert.ok(dependsOn.includes(t));
  });

  test("after the first `pulumi up` the pipeline owns the image: ignoreChanges names exactly the container's image", () => {
    const { ignoreChanges } = r.options("orders-workload-rollout").opts;
    assert.deepEqual(ignoreChanges, [releaseOwnedPaths.image]);
    const inputs = r.resources.find((x) => x.type === "kubernetes:argoproj.io/v1alpha1:Rollout")!.inputs;
    assert.equal(valueAt(inputs, parsePropertyPath(ignoreChanges[0])), "ghcr.io/acme/orders-api:1.4.2");
  });

  test("no reaper and no Deployment: the controller expires the canary itself", () => {
    assert.equal(r.cluster.reaper, undefined);
    assert.ok(r.cluster.workload instanceof CanaryRollout);
    const kinds = [...r.objects.values()].map((o) => o.kind);
    for (const kind of ["Deployment", "CronJob", "Job"]) assert.ok(!kinds.includes(kind), kind);
    assert.equal(r.ofType("canary-pipeline:kubernetes:CanaryReaper").length, 0);
    assert.equal(r.ofType("canary-pipeline:kubernetes:CanaryWorkload").length, 0);
  });

  test("the controller's CRDs are read by name, never declared, and the Rollout's component waits for them", () => {
    const reads = r.captured.filter((c) => c.type === "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition");
    assert.deepEqual(
      reads.map((c) => c.opts.id),
      argoRolloutsCrds,
    );
    assert.deepEqual(argoRolloutsCrds, [
      "rollouts.argoproj.io",
      "analysistemplates.argoproj.io",
      "analysisruns.argoproj.io",
    ]);
    // Declared, a CRD would carry its spec: a read carries no inputs (and the render may list it as a read).
    assert.ok(
      r
        .ofType("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition")
        .every((x) => Object.keys(x.inputs).length === 0),
      "not declared",
    );
    assert.ok(![...r.objects.keys()].some((k) => k.startsWith("CustomResourceDefinition.")));
    const dependsOn = r.options("orders-workload").opts.dependsOn as unknown[];
    assert.equal(dependsOn.length, 3);
    for (const crd of r.cluster.argoRolloutsCrds!) assert.ok(dependsOn.includes(crd));
    // Through the cluster's own provider, never the ambient kubeconfig's default one.
    for (const read of reads) assert.equal(read.opts.provider, r.cluster.provider, read.name);
    // The Rollout's CRD first: without the controller, the failure names it whatever the timing.
    const [rollouts, ...others] = r.cluster.argoRolloutsCrds!;
    assert.deepEqual(reads[0].opts.dependsOn, []);
    for (const read of reads.slice(1)) assert.deepEqual(read.opts.dependsOn, [rollouts]);
    assert.equal(others.length, 2);
  });

  test("the preview may read exactly those CRDs, cluster-wide and by name, and the engine's objects in the namespace", () => {
    const clusterRules = r.object("ClusterRole.cluster.orders-api.orders-dev.previewer").rules;
    assert.deepEqual(
      clusterRules.find((rule: { apiGroups: string[] }) => rule.apiGroups.includes("apiextensions.k8s.io")),
      {
        apiGroups: ["apiextensions.k8s.io"],
        resources: ["customresourcedefinitions"],
        verbs: ["get"],
        resourceNames: [...argoRolloutsCrds].sort(),
      },
    );
    const rules = r.object("Role.orders-dev.orders-api-previewer").rules;
    const argoRules = rules.filter((rule: { apiGroups: string[] }) => rule.apiGroups.includes("argoproj.io"));
    assert.deepEqual(argoRules, [
      {
        apiGroups: ["argoproj.io"],
        resources: ["analysistemplates"],
        verbs: ["get"],
        resourceNames: ["orders-api-bake", "orders-api-smoke-test"],
      },
      { apiGroups: ["argoproj.io"], resources: ["rollouts"], verbs: ["get"], resourceNames: ["orders-api"] },
    ]);
  });

  test("the pod template is hardened as the pipeline engine's (restricted, no API token)", () => {
    const template = rollout().spec.template.spec;
    assert.deepEqual(restrictedProblems(template), []);
  });

  test("every object is valid against its schema, the Rollout and templates against Argo Rollouts' CRDs", async () => {
    for (const [id, object] of r.objects) assert.deepEqual(await schemaProblems(object), [], id);
  });

  test("without a bake, one AnalysisTemplate and one analysis step", async () => {
    const bare = await renderCluster(stackConfig("eks", { ...argo, canaryBakeSeconds: 0 }));
    assert.deepEqual(
      [...bare.objects.keys()].filter((k) => k.startsWith("AnalysisTemplate.")),
      ["AnalysisTemplate.orders-dev.orders-api-smoke-test"],
    );
    assert.equal(bare.object(rolloutId).spec.strategy.canary.steps.filter((s: object) => "analysis" in s).length, 1);
  });
});

/** The whole stack's render of a stack file, with the engine switched on. */
async function renderArgoStack(stack: "dev" | "prod") {
  const settings = readStackFile(`Pulumi.${stack}.yaml`);
  const { files } = await renderStack({
    stack,
    settings: { ...settings, config: { ...settings.config, "canary-pipeline:canaryEngine": "argo-rollouts" } },
  });
  return (id: string) => {
    const content = files.get(`kubernetes/${id}.yaml`);
    assert.ok(content !== undefined, `kubernetes/${id}.yaml is not rendered`);
    return parse(content) as Record<string, any>;
  };
}

/** A rule's grants, one string each: `group/resource verb name`. */
const grants = (rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[]) =>
  rules
    .flatMap((rule) =>
      rule.apiGroups.flatMap((g) =>
        rule.resources.flatMap((res) =>
          rule.verbs.flatMap((v) => (rule.resourceNames ?? ["*"]).map((n) => `${g}/${res} ${v} ${n}`)),
        ),
      ),
    )
    .sort();

for (const stack of ["dev", "prod"] as const) {
  describe(`${stack}'s identities under canaryEngine argo-rollouts`, () => {
    let object: Awaited<ReturnType<typeof renderArgoStack>>;
    before(async () => {
      object = await renderArgoStack(stack);
    });
    const namespace = stack === "dev" ? "orders-dev" : "orders";

    test("the deployer's Role: get and patch the one Rollout, get and patch its status (kubectl patch --subresource reads it first)", () => {
      assert.deepEqual(grants(object(`Role.${namespace}.orders-api-deployer`).rules), [
        "argoproj.io/rollouts get orders-api",
        "argoproj.io/rollouts patch orders-api",
        "argoproj.io/rollouts/status get orders-api",
        "argoproj.io/rollouts/status patch orders-api",
      ]);
    });

    test("the rollback identity's Role: read the Rollout, get and patch its status (an abort), nothing else", () => {
      assert.deepEqual(grants(object(`Role.${namespace}.orders-api-rollback`).rules), [
        "argoproj.io/rollouts get orders-api",
        "argoproj.io/rollouts/status get orders-api",
        "argoproj.io/rollouts/status patch orders-api",
      ]);
    });

    test("deployer-releases matches the deployer's Rollout updates; rollback-aborts the rollback identity's status updates", () => {
      const release = object(`ValidatingAdmissionPolicy.cluster.orders-api.${namespace}.deployer-releases`).spec;
      assert.deepEqual(release.matchConstraints.resourceRules, [
        { apiGroups: ["argoproj.io"], apiVersions: ["v1alpha1"], operations: ["UPDATE"], resources: ["rollouts"] },
      ]);
      const deployers = object(`RoleBinding.${namespace}.orders-api-deployer`).subjects;
      assert.deepEqual(release.matchConditions, [
        {
          name: "updated-by-the-deployer",
          expression: `has(request.userInfo.groups) && "${deployers[0].name}" in request.userInfo.groups`,
        },
      ]);
      const rollback = object(`ValidatingAdmissionPolicy.cluster.orders-api.${namespace}.rollback-aborts`).spec;
      assert.deepEqual(rollback.matchConstraints.resourceRules, [
        {
          apiGroups: ["argoproj.io"],
          apiVersions: ["v1alpha1"],
          operations: ["UPDATE"],
          resources: ["rollouts/status"],
        },
      ]);
      const rollbackers = object(`RoleBinding.${namespace}.orders-api-rollback`).subjects;
      assert.equal(rollbackers.length, 1);
      assert.deepEqual(rollback.matchConditions, [
        {
          name: "updated-by-the-rollback-identity",
          expression: `has(request.userInfo.groups) && "${rollbackers[0].name}" in request.userInfo.groups`,
        },
      ]);
      assert.equal(rollback.failurePolicy, "Fail");
      const binding = object(`ValidatingAdmissionPolicyBinding.cluster.orders-api.${namespace}.rollback-aborts`).spec;
      assert.deepEqual(binding.validationActions, ["Deny"]);
      assert.deepEqual(binding.matchResources.namespaceSelector.matchLabels, {
        "kubernetes.io/metadata.name": namespace,
      });
    });

    test("rollback-aborts admits an abort and refuses a promotion, a step skipped, a pause lifted", () => {
      const [validation] = object(`ValidatingAdmissionPolicy.cluster.orders-api.${namespace}.rollback-aborts`).spec
        .validations;
      const admits = unchangedExpression(validation.expression);
      const old = {
        status: { currentStepIndex: 3, pauseConditions: [{ reason: "CanaryPauseStep" }], controllerPause: true },
      };
      const withStatus = (status: Record<string, unknown>) => ({ status: { ...old.status, ...status } });
      assert.equal(admits(withStatus({ abort: true }), old), true, "an abort");
      assert.equal(admits(withStatus({ promoteFull: true }), old), false, "a full promotion");
      assert.equal(admits(withStatus({ currentStepIndex: 4 }), old), false, "a step skipped");
      assert.equal(admits({ status: { currentStepIndex: 3, controllerPause: true } }, old), false, "a pause lifted");
      assert.equal(admits(withStatus({ controllerPause: false }), old), false, "the controller's pause lifted");
    });

    test("deployer-releases refuses a Rollout update that changes its steps, Services or selector, and admits an image change", () => {
      const validations = object(`ValidatingAdmissionPolicy.cluster.orders-api.${namespace}.deployer-releases`).spec
        .validations as { expression: string }[];
      const last = validations[validations.length - 1];
      const admits = unchangedExpression(last.expression);
      const old = object(`Rollout.${namespace}.orders-api`);
      const changed = (edit: (spec: any) => void) => {
        const copy = structuredClone(old);
        edit(copy.spec);
        return copy;
      };
      assert.equal(
        admits(
          changed((s) => (s.template.spec.containers[0].image = `ghcr.io/acme/orders-api@sha256:${"a".repeat(64)}`)),
          old,
        ),
        true,
      );
      assert.equal(
        admits(
          changed((s) => s.strategy.canary.steps.splice(1, 2)),
          old,
        ),
        false,
        "the analyses dropped",
      );
      assert.equal(
        admits(
          changed((s) => (s.strategy.canary.canaryService = "orders-api")),
          old,
        ),
        false,
      );
      assert.equal(
        admits(
          changed((s) => (s.selector.matchLabels.app = "other")),
          old,
        ),
        false,
      );
      assert.equal(
        admits(
          changed((s) => (s.workloadRef = { kind: "Deployment", name: "x" })),
          old,
        ),
        false,
      );
    });
  });
}

/**
 * Evaluates the one CEL shape the engine's policies use: a conjunction of
 * `(has(object.P) == has(oldObject.P) && (!has(object.P) || object.P == oldObject.P))`, each P a
 * field path; CEL's `==` on maps and lists is deep equality. An expression of another shape throws.
 */
function unchangedExpression(expression: string): (object: unknown, oldObject: unknown) => boolean {
  const clause =
    /^\(has\(object\.([\w.]+)\) == has\(oldObject\.\1\) && \(!has\(object\.\1\) \|\| object\.\1 == oldObject\.\1\)\)$/;
  const paths = expression.split(" && (has(").map((part, i) => {
    const m = clause.exec(i === 0 ? part : `(has(${part}`);
    assert.ok(m, `not the unchanged-field shape: ${part}`);
    return m[1].split(".");
  });
  const at = (value: unknown, path: string[]) =>
    path.reduce<unknown>(
      (v, key) => (v !== null && typeof v === "object" && key in v ? (v as Record<string, unknown>)[key] : undefined),
      value,
    );
  return (object, oldObject) =>
    paths.every((path) => {
      const [now, before] = [at(object, path), at(oldObject, path)];
      if ((now === undefined) !== (before === undefined)) return false;
      return now === undefined || isDeepStrictEqual(now, before);
    });
}
