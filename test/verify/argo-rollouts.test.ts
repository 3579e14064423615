/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any --
   the mutations edit parsed, untyped YAML documents. */
// The verifier on canaryEngine argo-rollouts, taught from upstream: what `kubectl patch` requests
// (a GET then a PATCH, through --subresource), the rollout kind, what a refresh of a Rollout, an
// AnalysisTemplate and a read CRD requests, the custom kinds against the CRDs' schemas, and a
// Rollout's references. The dev stack with the engine on (prod, the pipeline engine, beside it)
// passes every check once its CRD reads are recorded; each property broken on purpose is a finding.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { argoRolloutsCrds } from "../../components/shared/argo-rollout";
import { readStackFile, securePlaceholder } from "../../config/stack-file";
import { renderStack } from "../../synth/render";
import { mockServiceAccountToken } from "../../testing/mock-engine";
import { verifyRender, type Findings } from "../../verify";
import { scriptRequests } from "../../verify/cluster-rights";
import { apiRequests, kubectlCommands, type ApiRequest } from "../../verify/kubectl";
import { previewRequests, unrecordedReads } from "../../verify/preview-reads";
import { schemaProblems } from "../../verify/kubernetes-schema";
import { resourceEntries } from "../../verify/render-files";

const acme = { owner: "acme", name: "orders-api", ownerId: 1234567, repositoryId: 890123456 };
const settings = (stack: string, engine?: string) => {
  const s = readStackFile(`Pulumi.${stack}.yaml`);
  return engine ? { ...s, config: { ...s.config, "canary-pipeline:canaryEngine": engine } } : s;
};
const noFindings: Findings = { schema: [], identity: [], clusterRights: [], secrets: [], names: [] };

/** One kubectl command's requests (the first in the text). */
const requestsOf = (text: string): ApiRequest[] => apiRequests(kubectlCommands(text).commands[0]);

describe("kubectl on a Rollout (k8s.io/kubectl pkg/cmd/patch, annotate, get)", () => {
  test("patch --subresource=status: a GET of the status subresource, then its PATCH; the object itself is not requested", () => {
    const status = `kubectl patch rollout/orders-api --subresource=status --type=merge --patch "{\\"metadata\\":{\\"resourceVersion\\":\\"$1\\"},\\"status\\":{\\"abort\\":true}}" --namespace orders-dev`;
    assert.deepEqual(requestsOf(status), [
      {
        apiGroup: "argoproj.io",
        resource: "rollouts/status",
        verb: "get",
        name: "orders-api",
        namespace: "orders-dev",
      },
      {
        apiGroup: "argoproj.io",
        resource: "rollouts/status",
        verb: "patch",
        name: "orders-api",
        namespace: "orders-dev",
      },
    ]);
  });

  test("a JSON patch of the Rollout, by its kind, plural or short name, with --patch or -p", () => {
    const expected = ["get", "patch"].map((verb) => ({
      apiGroup: "argoproj.io",
      resource: "rollouts",
      verb,
      name: "orders-api",
      namespace: "orders-dev",
    }));
    for (const target of ["rollout/orders-api", "rollouts orders-api", "ro/orders-api"])
      assert.deepEqual(
        requestsOf(
          `kubectl patch ${target} --type=json -p '[{"op":"replace","path":"/spec/replicas","value":3}]' -n orders-dev`,
        ),
        expected,
        target,
      );
  });

  test("annotate and get a Rollout; a Deployment's strategic merge patch is still known", () => {
    assert.deepEqual(
      requestsOf("kubectl annotate rollout/orders-api a.b/c=1 --overwrite --namespace ns").map((r) => r.verb),
      ["get", "patch"],
    );
    assert.deepEqual(requestsOf("kubectl get rollout/orders-api --namespace ns --output jsonpath='{.status.phase}'"), [
      { apiGroup: "argoproj.io", resource: "rollouts", verb: "get", name: "orders-api", namespace: "ns" },
    ]);
    assert.deepEqual(
      requestsOf(`kubectl patch deployment/web --patch '{"spec":{"replicas":2}}' --namespace ns`).map(
        (r) => `${r.apiGroup}/${r.resource} ${r.verb}`,
      ),
      ["apps/deployments get", "apps/deployments patch"],
    );
  });

  test("what kubectl or the API server would refuse, and what this verifier does not know, are errors", () => {
    for (const [command, why] of [
      [
        `kubectl patch rollout/orders-api --patch '{"spec":{}}' --namespace ns`,
        /strategic-merge-patches a rollouts custom resource/,
      ],
      [`kubectl patch rollout/orders-api --type=merge --namespace ns`, /without --patch/],
      [`kubectl patch rollout --type=merge --patch '{}' --namespace ns`, /one named object/],
      [`kubectl patch rollout/orders-api --local --type=merge --patch '{}'`, /flags this verifier does not know/],
      [`kubectl patch rollout/orders-api --subresource=ephemeral --type=merge --patch '{}'`, /subresource/],
      ["kubectl set image rollout/orders-api orders-api=x", /kubectl set image cannot/],
      ["kubectl rollout status rollout/orders-api --namespace ns", /kubectl rollout knows no rollouts/],
      ["kubectl get analysisrun/x --namespace ns", /unknown resource kind "analysisrun"/],
      ["kubectl argo rollouts promote orders-api", /not a command this verifier knows/],
    ] as const)
      assert.throws(() => requestsOf(command), why, command);
  });

  test("-p is a patch's value only: `kubectl logs -p` (previous) keeps its pod", () => {
    assert.deepEqual(
      requestsOf("kubectl logs -p pod/smoke --namespace ns").map((r) => `${r.resource} ${r.name}`),
      ["pods smoke", "pods/log smoke"],
    );
  });
});

/** The render with each CRD read recorded as Pulumi's checkpoint marks a read: external, with its id. */
function withReadsRecorded(files: Map<string, string>): Map<string, string> {
  const entries = resourceEntries(files);
  const reads = unrecordedReads(files).map((urn) => {
    const id = argoRolloutsCrds.find((crd) => urn.endsWith(`-${crd}`));
    assert.ok(id, urn);
    return {
      urn,
      type: "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
      name: urn.split("::").pop()!,
      parent: entries.find((e) => e.type === "canary-pipeline:kubernetes:CanaryCluster")!.urn,
      provider: null,
      dependencies: [],
      inputs: {},
      external: true,
      id,
    };
  });
  return new Map([...files, ["resources.json", JSON.stringify([...entries, ...reads], null, 2)]]);
}

describe("the dev stack under canaryEngine argo-rollouts, prod beside it", () => {
  let argo: Map<string, string>;
  let recorded: Map<string, string>;
  let prod: Map<string, string>;
  before(async () => {
    argo = (await renderStack({ stack: "dev", settings: settings("dev", "argo-rollouts") })).files;
    prod = (await renderStack({ stack: "prod", settings: settings("prod") })).files;
    recorded = withReadsRecorded(argo);
  });
  const knownSecrets = {
    ...Object.fromEntries(settings("dev").secretKeys.map((k) => [k, securePlaceholder(k)])),
    serviceAccountToken: mockServiceAccountToken,
  };
  const verify = (files: Map<string, string>) =>
    verifyRender({ files, others: [prod], repository: acme, knownSecrets });
  const mutate = (path: string, change: (content: string) => string) => {
    const files = new Map(recorded);
    assert.ok(files.has(path), `no file ${path}`);
    const changed = change(files.get(path)!);
    assert.notEqual(changed, files.get(path), `the mutation of ${path} changed nothing`);
    files.set(path, changed);
    return files;
  };
  const yamlEdit = (edit: (doc: Record<string, any>) => void) => (content: string) => {
    const doc = parse(content) as Record<string, any>;
    edit(doc);
    return stringify(doc);
  };
  const deployer = "kubernetes/Role.orders-dev.orders-api-deployer.yaml";
  const rollout = "kubernetes/Rollout.orders-dev.orders-api.yaml";
  const workflow = "repo/.github/workflows/deploy-dev.yml";

  test("with its CRD reads recorded, every check passes", async () => {
    assert.equal(unrecordedReads(recorded).length, 0);
    assert.deepEqual(await verify(recorded), noFindings);
  });

  test("a refresh reads each CRD cluster-wide by its id, the Rollout and its templates in their namespace", () => {
    const preview = { uses: "pulumi/actions@v6", with: { command: "preview", refresh: true } };
    const requests = previewRequests(recorded, preview);
    for (const crd of argoRolloutsCrds)
      assert.deepEqual(
        requests.filter((r) => r.name === crd),
        [{ apiGroup: "apiextensions.k8s.io", resource: "customresourcedefinitions", verb: "get", name: crd }],
      );
    assert.deepEqual(
      requests
        .filter((r) => r.apiGroup === "argoproj.io")
        .map((r) => `${r.resource} ${r.verb} ${r.namespace}/${r.name}`),
      [
        "analysistemplates get orders-dev/orders-api-bake",
        "analysistemplates get orders-dev/orders-api-smoke-test",
        "rollouts get orders-dev/orders-api",
      ],
    );
    // A read whose id names a namespace is a Get there; without one, in "default" (clients.go NamespaceOrDefault).
    const entries = resourceEntries(recorded);
    const withRead = (type: string, id: string) =>
      new Map([
        ...recorded,
        [
          "resources.json",
          JSON.stringify([...entries, { ...entries[0], urn: `urn:x::${id}`, type, inputs: {}, external: true, id }]),
        ],
      ]);
    assert.deepEqual(
      previewRequests(withRead("kubernetes:core/v1:Service", "web"), preview).find((r) => r.name === "web"),
      { apiGroup: "", resource: "services", verb: "get", name: "web", namespace: "default" },
    );
    assert.deepEqual(
      previewRequests(withRead("kubernetes:core/v1:Service", "edge/web"), preview).find((r) => r.name === "web"),
      { apiGroup: "", resource: "services", verb: "get", name: "web", namespace: "edge" },
    );
  });

  test("a read the render depends on but does not record is a finding, and its grant then looks unused", async () => {
    const unrecorded = new Map([
      ...recorded,
      ["resources.json", JSON.stringify(resourceEntries(recorded).filter((e) => e.external !== true))],
    ]);
    assert.equal(unrecordedReads(unrecorded).length, argoRolloutsCrds.length);
    const { clusterRights } = await verify(unrecorded);
    for (const crd of argoRolloutsCrds) {
      assert.ok(
        clusterRights.some(
          (f) => f.includes(`CustomResourceDefinition::`) && f.includes(crd) && /does not record the read/.test(f),
        ),
        clusterRights.join("\n"),
      );
      assert.ok(
        clusterRights.includes(
          `ClusterRole orders-api.orders-dev.previewer grants apiextensions.k8s.io/customresourcedefinitions get ${crd}, which no workflow acting under it uses`,
        ),
      );
    }
  });

  test("a deployer Role without rollouts/status patch, or without its get (kubectl reads the subresource first)", async () => {
    for (const verb of ["patch", "get"]) {
      const files = mutate(
        deployer,
        yamlEdit((role) => {
          const rule = role.rules.find((r: { resources: string[] }) => r.resources.includes("rollouts/status"));
          rule.verbs = rule.verbs.filter((v: string) => v !== verb);
        }),
      );
      const { clusterRights } = await verify(files);
      assert.deepEqual(clusterRights, [
        `Role orders-dev/orders-api-deployer does not grant argoproj.io/rollouts/status ${verb} orders-api, which a workflow acting under it needs`,
      ]);
    }
  });

  test("a deployer Role granting more than the workflows use, or another Rollout", async () => {
    const extra = mutate(
      deployer,
      yamlEdit((role) =>
        role.rules.push({
          apiGroups: ["argoproj.io"],
          resources: ["rollouts"],
          verbs: ["delete"],
          resourceNames: ["orders-api"],
        }),
      ),
    );
    assert.deepEqual((await verify(extra)).clusterRights, [
      "Role orders-dev/orders-api-deployer grants argoproj.io/rollouts delete orders-api, which no workflow acting under it uses",
    ]);
    const other = mutate(
      deployer,
      yamlEdit((role) => {
        for (const rule of role.rules) rule.resourceNames = ["orders-web"];
      }),
    );
    const { clusterRights } = await verify(other);
    assert.ok(
      clusterRights.includes(
        "Role orders-dev/orders-api-deployer does not grant argoproj.io/rollouts patch orders-api, which a workflow acting under it needs",
      ),
    );
    assert.ok(
      clusterRights.includes(
        "Role orders-dev/orders-api-deployer grants argoproj.io/rollouts patch orders-web, which no workflow acting under it uses",
      ),
    );
  });

  test("the rollback Role without rollouts/status patch: the abort it runs is refused", async () => {
    const files = mutate(
      "kubernetes/Role.orders-dev.orders-api-rollback.yaml",
      yamlEdit((role) => {
        role.rules = role.rules.filter((r: { resources: string[] }) => !r.resources.includes("rollouts/status"));
      }),
    );
    const { clusterRights } = await verify(files);
    assert.ok(
      clusterRights.includes(
        "Role orders-dev/orders-api-rollback does not grant argoproj.io/rollouts/status patch orders-api, which a workflow acting under it needs",
      ),
      clusterRights.join("\n"),
    );
  });

  test("the previewer ClusterRole without a CRD's get: the refreshed preview's read is refused", async () => {
    const files = mutate(
      "kubernetes/ClusterRole.cluster.orders-api.orders-dev.previewer.yaml",
      yamlEdit((role) => {
        const rule = role.rules.find((r: { resources: string[] }) => r.resources.includes("customresourcedefinitions"));
        rule.resourceNames = rule.resourceNames.filter((n: string) => n !== "rollouts.argoproj.io");
      }),
    );
    assert.deepEqual((await verify(files)).clusterRights, [
      "ClusterRole orders-api.orders-dev.previewer does not grant apiextensions.k8s.io/customresourcedefinitions get rollouts.argoproj.io, which a workflow acting under it needs",
    ]);
  });

  test("an analysis step naming a template the render does not declare", async () => {
    const files = mutate(
      rollout,
      yamlEdit((r) => (r.spec.strategy.canary.steps[2].analysis.templates[0].templateName = "orders-api-soak")),
    );
    assert.deepEqual((await verify(files)).names, [
      "Rollout orders-dev/orders-api: step 2 runs the AnalysisTemplate orders-api-soak, which the render does not declare in namespace orders-dev",
    ]);
  });

  test("a stable Service the render does not declare; one Service for both tracks; a selector the pods do not carry", async () => {
    const missing = mutate(
      rollout,
      yamlEdit((r) => (r.spec.strategy.canary.stableService = "orders-api-stabel")),
    );
    assert.deepEqual((await verify(missing)).names, [
      "Rollout orders-dev/orders-api: its stableService orders-api-stabel is not a rendered Service in namespace orders-dev",
    ]);
    const same = mutate(
      rollout,
      yamlEdit((r) => (r.spec.strategy.canary.stableService = "orders-api-canary")),
    );
    assert.ok(
      (await verify(same)).names.includes(
        "Rollout orders-dev/orders-api: uses orders-api-canary as both its canary and its stable Service",
      ),
    );
    const selector = mutate(
      "kubernetes/Service.orders-dev.orders-api-stable.yaml",
      yamlEdit((s) => (s.spec.selector.tier = "web")),
    );
    assert.deepEqual((await verify(selector)).names, [
      "Rollout orders-dev/orders-api: its stableService orders-api-stable selects tier=web, which its pod template does not carry",
    ]);
  });

  test("steps the controller refuses: a weight over 100, two kinds in one step", async () => {
    const files = mutate(
      rollout,
      yamlEdit((r) => {
        r.spec.strategy.canary.steps[0].setWeight = 120;
        r.spec.strategy.canary.steps[4].pause = {};
      }),
    );
    assert.deepEqual((await verify(files)).names, [
      "Rollout orders-dev/orders-api: step 0 sets the weight 120, not an integer from 0 to 100",
      "Rollout orders-dev/orders-api: step 4 must be exactly one of setWeight, pause, analysis, experiment, setCanaryScale, setHeaderRoute, setMirrorRoute, plugin (it is setWeight, pause)",
    ]);
  });

  test("a web metric requesting a Service the render does not declare, or a port it does not serve", async () => {
    const path = "kubernetes/AnalysisTemplate.orders-dev.orders-api-smoke-test.yaml";
    const host = mutate(path, (c) => c.replaceAll("orders-api-canary.orders-dev", "orders-api-canry.orders-dev"));
    const { names } = await verify(host);
    assert.equal(names.length, 2, names.join("\n"));
    assert.ok(
      names.every((f) =>
        /^AnalysisTemplate orders-dev\/orders-api-smoke-test: metric \S+ requests http:\/\/orders-api-canry\.orders-dev\.svc\.cluster\.local:80\/\S*, whose host names no rendered Service$/.test(
          f,
        ),
      ),
    );
    const port = mutate(path, (c) => c.replaceAll("svc.cluster.local:80/", "svc.cluster.local:8080/"));
    assert.ok(
      (await verify(port)).names.every((f) =>
        f.includes("requests port 8080 of Service orders-dev/orders-api-canary, which has no such port"),
      ),
    );
  });

  test("the workflow waiting for approval at a step that is not the Rollout's pause, or before an analysis", async () => {
    const files = mutate(workflow, (c) => c.replaceAll("APPROVAL_STEP=3", "APPROVAL_STEP=1"));
    const { names } = await verify(files);
    for (const job of ["canary", "promote"]) {
      assert.ok(
        names.includes(
          `.github/workflows/deploy-dev.yml job ${job}: waits at step 1 of rollout/orders-api for its approval, which is not a pause with a duration ({"analysis":{"templates":[{"templateName":"orders-api-smoke-test"}]}})`,
        ),
        names.join("\n"),
      );
      assert.ok(
        names.includes(
          `.github/workflows/deploy-dev.yml job ${job}: waits at step 1 of rollout/orders-api, before its analysis step(s) 2: a canary would wait for approval unjudged`,
        ),
      );
    }
  });

  test("a workflow patching the Rollout with a strategic merge patch (the API server's 415) is unreadable", async () => {
    const files = mutate(workflow, (c) =>
      c.replace("kubectl patch rollout/orders-api --type=json ", "kubectl patch rollout/orders-api "),
    );
    const { clusterRights } = await verify(files);
    assert.ok(
      clusterRights.some((f) =>
        /job canary: unreadable kubectl command: .*strategic-merge-patches a rollouts custom resource/.test(f),
      ),
      clusterRights.join("\n"),
    );
  });

  test("a workflow naming a Rollout the render does not declare", async () => {
    const files = mutate(workflow, (c) =>
      c.replaceAll("kubectl get rollout/orders-api ", "kubectl get rollout/orders-apj "),
    );
    assert.ok(
      (await verify(files)).names.includes(
        ".github/workflows/deploy-dev.yml: rollout/orders-apj in namespace orders-dev is not a rendered object",
      ),
    );
  });

  test("a Rollout running another image repository than the workflow releases", async () => {
    const files = mutate(rollout, (c) =>
      c.replace("image: ghcr.io/acme/orders-api:1.4.2", "image: ghcr.io/acme/orders-web:1.4.2"),
    );
    assert.deepEqual((await verify(files)).names, [
      ".github/workflows/deploy-dev.yml: IMAGE ghcr.io/acme/orders-api is the repository of no rendered Deployment's image (ghcr.io/acme/orders-web): the pipeline would release an image the cluster does not run",
    ]);
  });

  test("the Rollout and AnalysisTemplates against Argo Rollouts' CRD schemas: unknown fields, types, required fields", async () => {
    const files = mutate(
      rollout,
      yamlEdit((r) => {
        r.spec.strategy.canary.stepz = [];
        r.spec.replicas = "9";
        r.spec.template.spec.containers[0].portz = [];
      }),
    );
    assert.deepEqual((await verify(files)).schema, [
      "Rollout orders-dev/orders-api: spec.replicas: must be of type integer, not string",
      "Rollout orders-dev/orders-api: unknown field spec.strategy.canary.stepz",
      "Rollout orders-dev/orders-api: unknown field spec.template.spec.containers[0].portz",
    ]);
    const template = parse(recorded.get("kubernetes/AnalysisTemplate.orders-dev.orders-api-bake.yaml")!) as Record<
      string,
      any
    >;
    delete template.spec.metrics[0].name;
    template.spec.metrics[1].provider.web.timeoutSecond = 2;
    template.metadata.labelz = {};
    assert.deepEqual(await schemaProblems(template), [
      "unknown field metadata.labelz",
      "spec.metrics[0].name: required",
      "unknown field spec.metrics[1].provider.web.timeoutSecond",
    ]);
  });

  test("every kubectl command the engine's workflow runs is one the verifier reads", () => {
    const scripts = [...recorded]
      .filter(([p]) => p.startsWith("repo/.github/workflows/"))
      .flatMap(([, content]) =>
        Object.values((parse(content) as { jobs: Record<string, { steps?: { run?: string }[] }> }).jobs),
      )
      .flatMap((job) => (job.steps ?? []).flatMap((s) => (s.run ? [s.run] : [])));
    const { requests, unknown } = scriptRequests(scripts);
    assert.deepEqual(unknown, []);
    assert.deepEqual(
      [
        ...new Set(
          requests.filter((r) => r.apiGroup === "argoproj.io").map((r) => `${r.resource} ${r.verb} ${r.name}`),
        ),
      ].sort(),
      [
        "rollouts get orders-api",
        "rollouts patch orders-api",
        "rollouts/status get orders-api",
        "rollouts/status patch orders-api",
      ],
    );
  });
});
