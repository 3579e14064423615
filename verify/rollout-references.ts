// Argo Rollouts' Rollouts against the objects they name, as the controller judges them before it
// acts (argoproj/argo-rollouts v1.10.1, pkg/apis/rollouts/validation): a Rollout whose check fails
// is marked InvalidSpec and never walks its steps, and one naming a missing Service or
// AnalysisTemplate waits, so the release would hang until its bound. And the deploy workflow's
// scripts against the Rollout they drive: the approval step they wait at is a pause that every
// analysis precedes. Read from the render alone.
import { kubectlCommands } from "./kubectl";
import { kubernetesObjects, workflowDocuments, type KubernetesObject, type RenderFiles } from "./render-files";

/** The label the controller adds to the Services' selectors and its ReplicaSets' pods (v1alpha1.DefaultRolloutUniqueLabelKey). */
const podTemplateHashLabel = "rollouts-pod-template-hash";

/** The step kinds a canary step may be, exactly one of them (validation.go 316-323 and hasMultipleStepsType). */
const stepKinds = [
  "setWeight",
  "pause",
  "analysis",
  "experiment",
  "setCanaryScale",
  "setHeaderRoute",
  "setMirrorRoute",
  "plugin",
] as const;

type Step = Partial<Record<(typeof stepKinds)[number], unknown>>;

interface CanaryStrategy {
  readonly canaryService?: string;
  readonly stableService?: string;
  readonly steps?: readonly Step[];
  readonly analysis?: AnalysisRef;
}

interface AnalysisRef {
  readonly templates?: readonly { readonly templateName?: string; readonly clusterScope?: boolean }[];
}

interface RolloutSpec {
  readonly selector?: { readonly matchLabels?: Record<string, string>; readonly matchExpressions?: unknown[] };
  readonly template?: { readonly metadata?: { readonly labels?: Record<string, string> } };
  readonly workloadRef?: unknown;
  readonly strategy?: { readonly canary?: CanaryStrategy; readonly blueGreen?: unknown };
}

/** A pause's duration in seconds (`30`, `"30s"`, `"5m"`, `"1h"`); undefined: indefinite or unreadable. */
export function pauseSeconds(duration: unknown): number | undefined {
  if (typeof duration === "number") return duration;
  if (typeof duration !== "string") return undefined;
  const m = /^(\d+)(s|m|h)?$/.exec(duration);
  if (!m) return undefined;
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] ?? "s"]!;
}

const isRollout = (o: KubernetesObject) => o.apiVersion === "argoproj.io/v1alpha1" && o.kind === "Rollout";

/** Findings of one Rollout against the render's objects. */
function rolloutFindings(rollout: KubernetesObject, objects: readonly KubernetesObject[]): string[] {
  const where = `Rollout ${rollout.metadata.namespace ?? ""}/${rollout.metadata.name}`;
  const namespace = rollout.metadata.namespace;
  const spec = (rollout.spec ?? {}) as RolloutSpec;
  const findings: string[] = [];
  const labels = spec.template?.metadata?.labels ?? {};
  const find = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
  // validation.go 135-143, and ValidatePodTemplateSpecForReplicaSet (183): a selector that selects the template.
  if (spec.workloadRef === undefined) {
    const matchLabels = spec.selector?.matchLabels ?? {};
    if (Object.keys(matchLabels).length + (spec.selector?.matchExpressions?.length ?? 0) === 0)
      findings.push(`${where}: has an empty selector, which the controller refuses`);
    for (const [k, v] of Object.entries(matchLabels))
      if (labels[k] !== v) findings.push(`${where}: its selector ${k}=${v} does not select its own pod template`);
  }
  const canary = spec.strategy?.canary;
  if (!canary) {
    findings.push(`${where}: has no canary strategy`);
    return findings;
  }
  // validation.go 266-268: two Services; validation_references.go 94-111: each exists and selects the template's pods.
  if (canary.canaryService !== undefined && canary.canaryService === canary.stableService)
    findings.push(`${where}: uses ${canary.canaryService} as both its canary and its stable Service`);
  for (const [role, name] of [
    ["canaryService", canary.canaryService],
    ["stableService", canary.stableService],
  ] as const) {
    if (name === undefined) continue;
    const service = find("Service", name);
    if (!service) {
      findings.push(`${where}: its ${role} ${name} is not a rendered Service in namespace ${namespace ?? "(none)"}`);
      continue;
    }
    const selector = ((service.spec ?? {}) as { selector?: Record<string, string> }).selector ?? {};
    for (const [k, v] of Object.entries(selector))
      if (k !== podTemplateHashLabel && labels[k] !== v)
        findings.push(`${where}: its ${role} ${name} selects ${k}=${v}, which its pod template does not carry`);
  }
  // The steps (validation.go 316-331): one kind each, a weight within 0-100, no negative pause.
  const templateRefs: { at: string; ref: NonNullable<AnalysisRef["templates"]>[number] }[] = [];
  (canary.steps ?? []).forEach((step, i) => {
    const kinds = stepKinds.filter((k) => k in step);
    const unknown = Object.keys(step).filter((k) => !(stepKinds as readonly string[]).includes(k));
    if (kinds.length !== 1 || unknown.length > 0)
      findings.push(
        `${where}: step ${i} must be exactly one of ${stepKinds.join(", ")} (it is ${Object.keys(step).join(", ") || "empty"})`,
      );
    if ("setWeight" in step) {
      const w = step.setWeight;
      if (typeof w !== "number" || !Number.isInteger(w) || w < 0 || w > 100)
        findings.push(`${where}: step ${i} sets the weight ${String(w)}, not an integer from 0 to 100`);
    }
    if ("pause" in step) {
      const duration = (step.pause as { duration?: unknown } | null)?.duration;
      if (duration !== undefined && (pauseSeconds(duration) ?? -1) < 0)
        findings.push(`${where}: step ${i} pauses for ${JSON.stringify(duration)}, not a duration`);
    }
    if ("analysis" in step)
      for (const ref of (step.analysis as AnalysisRef | null)?.templates ?? [])
        templateRefs.push({ at: `step ${i}`, ref });
  });
  for (const ref of canary.analysis?.templates ?? []) templateRefs.push({ at: "its background analysis", ref });
  // validation_references.go 122-157: every template an analysis names exists (in the Rollout's namespace).
  for (const { at, ref } of templateRefs) {
    const kind = ref.clusterScope ? "ClusterAnalysisTemplate" : "AnalysisTemplate";
    const exists = objects.some(
      (o) =>
        o.kind === kind &&
        o.metadata.name === ref.templateName &&
        (ref.clusterScope || o.metadata.namespace === namespace),
    );
    if (!exists)
      findings.push(
        `${where}: ${at} runs the ${kind} ${String(ref.templateName)}, which the render does not declare${ref.clusterScope ? "" : ` in namespace ${namespace ?? "(none)"}`}`,
      );
  }
  return findings;
}

/** An AnalysisTemplate's web metrics request Services of the render, on one of their ports. */
function templateFindings(template: KubernetesObject, objects: readonly KubernetesObject[]): string[] {
  const where = `AnalysisTemplate ${template.metadata.namespace ?? ""}/${template.metadata.name}`;
  const metrics =
    ((template.spec ?? {}) as { metrics?: { name?: string; provider?: { web?: { url?: unknown } } }[] }).metrics ?? [];
  if (metrics.length === 0) return [`${where}: has no metric`];
  return metrics.flatMap((metric) => {
    const url = metric.provider?.web?.url;
    if (typeof url !== "string") return [];
    const m = /^https?:\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?(?::(\d+))?(?:\/|$)/.exec(url);
    if (!m) return [];
    const [, name, namespace, port] = m;
    const service = objects.find(
      (o) => o.kind === "Service" && o.metadata.name === name && o.metadata.namespace === namespace,
    );
    if (!service)
      return [`${where}: metric ${String(metric.name)} requests ${url}, whose host names no rendered Service`];
    const ports = ((service.spec ?? {}) as { ports?: { port?: number }[] }).ports ?? [];
    const wanted = Number(port ?? (url.startsWith("https") ? 443 : 80));
    return ports.some((p) => p.port === wanted)
      ? []
      : [
          `${where}: metric ${String(metric.name)} requests port ${wanted} of Service ${namespace}/${name}, which has no such port`,
        ];
  });
}

/**
 * The deploy workflow's scripts against the Rollout they name (`ROLLOUT_NAME`): the approval step
 * they wait at (`APPROVAL_STEP`) is a pause with a duration, and every analysis step precedes it;
 * otherwise the verdict would pass a canary nobody judged, or never come.
 */
function workflowFindings(files: RenderFiles, rollouts: readonly KubernetesObject[]): string[] {
  const findings: string[] = [];
  for (const { path, document } of workflowDocuments(files)) {
    for (const [jobId, job] of Object.entries(document.jobs)) {
      for (const step of job.steps ?? []) {
        const script = step.run ?? "";
        const approval = /^APPROVAL_STEP=["']?(\d+)["']?$/m.exec(script)?.[1];
        if (approval === undefined) continue;
        const name = /^ROLLOUT_NAME=["']?([a-z0-9.-]+)["']?$/m.exec(script)?.[1];
        const namespaces = new Set(
          kubectlCommands(script).commands.flatMap((c) => {
            const i = c.argv.indexOf("--namespace");
            return i >= 0 && c.argv[i + 1] ? [c.argv[i + 1]] : [];
          }),
        );
        const rollout = rollouts.find(
          (r) => r.metadata.name === name && (namespaces.size === 0 || namespaces.has(r.metadata.namespace ?? "")),
        );
        const at = `${path} job ${jobId}`;
        if (!rollout) {
          findings.push(`${at}: waits at step ${approval} of rollout/${String(name)}, which is not a rendered Rollout`);
          continue;
        }
        const steps = (rollout.spec as RolloutSpec | undefined)?.strategy?.canary?.steps ?? [];
        const index = Number(approval);
        const pause = steps[index]?.pause as { duration?: unknown } | undefined;
        if (pause === undefined || pauseSeconds(pause.duration) === undefined)
          findings.push(
            `${at}: waits at step ${index} of rollout/${String(name)} for its approval, which is not a pause with a duration (${JSON.stringify(steps[index] ?? null)})`,
          );
        const late = steps.flatMap((s, i) => ("analysis" in s && i > index ? [i] : []));
        if (late.length > 0)
          findings.push(
            `${at}: waits at step ${index} of rollout/${String(name)}, before its analysis step(s) ${late.join(", ")}: a canary would wait for approval unjudged`,
          );
      }
    }
  }
  return findings;
}

/** Every finding about the render's Rollouts and AnalysisTemplates (none when it declares neither). */
export function checkRollouts(files: RenderFiles): string[] {
  const objects = kubernetesObjects(files);
  const rollouts = objects.filter(isRollout);
  return [
    ...rollouts.flatMap((r) => rolloutFindings(r, objects)),
    ...objects.filter((o) => o.kind === "AnalysisTemplate").flatMap((t) => templateFindings(t, objects)),
    ...workflowFindings(files, rollouts),
  ];
}
