// Names: every `secrets.X` and `vars.X` a workflow reads is created by a stack in the repository
// the workflow is committed to (for the job's environment, or repository-wide), every Kubernetes
// name, label selector and Service host the workflows' scripts use exists among the rendered
// objects, and the image repository a deploy workflow releases is the one its Deployments (or,
// canaryEngine argo-rollouts, its Rollout: an Argo Rollouts pod template) run.
import { parseImageReference, pushRegistry, registryOf } from "../config/image-reference";
import { kubectlCommands, parseArgs } from "./kubectl";
import {
  jobEnvironment,
  kubernetesObjects,
  noWorkflows,
  ofType,
  workflowDocuments,
  type KubernetesObject,
  type RenderFiles,
} from "./render-files";

/** Secrets GitHub provides to every run. */
const builtInSecrets = new Set(["GITHUB_TOKEN"]);

function githubNames(contexts: readonly RenderFiles[]) {
  const names = (type: string, key: string) =>
    contexts
      .flatMap((f) => ofType(f, type))
      .map((r) => ({
        name: String(r.inputs[key]),
        repository: r.inputs.repository,
        environment: r.inputs.environment as string | undefined,
      }));
  return {
    secrets: [
      ...names("github:index/actionsSecret:ActionsSecret", "secretName"),
      ...names("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret", "secretName"),
    ],
    vars: [
      ...names("github:index/actionsVariable:ActionsVariable", "variableName"),
      ...names("github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable", "variableName"),
    ],
  };
}

/** `secrets.X` / `vars.X` read by each job are created in its workflow's repository, for the job's environment or repository-wide. */
export function checkGithubNames(files: RenderFiles, others: readonly RenderFiles[] = []): string[] {
  const created = githubNames([files, ...others]);
  const workflows = workflowDocuments(files);
  if (workflows.length === 0) return [noWorkflows];
  const findings: string[] = [];
  for (const { path, repository, document: workflow } of workflows) {
    for (const [jobId, job] of Object.entries(workflow.jobs)) {
      const environment = jobEnvironment(job);
      const text = JSON.stringify(job);
      for (const [, kind, name] of text.matchAll(/\b(secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
        if (kind === "secrets" && builtInSecrets.has(name)) continue;
        const pool = kind === "secrets" ? created.secrets : created.vars;
        if (
          !pool.some(
            (c) =>
              c.name === name &&
              c.repository === repository &&
              (c.environment === undefined || c.environment === environment),
          )
        ) {
          findings.push(
            `${path} job ${jobId}: reads ${kind}.${name}, which no stack creates in ${String(repository)}${environment ? ` for environment ${environment} or the repository` : " for the repository"}`,
          );
        }
      }
    }
  }
  return [...new Set(findings)];
}

/** The namespace a finding names: a command without --namespace is judged in any. */
const where = (namespace: string | undefined) =>
  namespace === undefined ? "any namespace (no --namespace)" : `namespace ${namespace}`;

/** Kubernetes names the scripts use exist in the render (or are created by the script itself). */
export function checkKubernetesNames(files: RenderFiles): string[] {
  const objects = kubernetesObjects(files);
  const findings: string[] = [];
  const exists = (kind: string, name: string, namespace: string | undefined) =>
    objects.some(
      (o) =>
        o.kind.toLowerCase() === kind &&
        o.metadata.name === name &&
        (namespace === undefined || o.metadata.namespace === namespace),
    );
  const podTemplates = objects.filter(isWorkload).map((o) => ({
    namespace: o.metadata.namespace,
    labels:
      (o.spec?.template as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata?.labels ?? {},
  }));
  const workflows = workflowDocuments(files);
  if (workflows.length === 0) return [noWorkflows];
  for (const { path, document: workflow } of workflows) {
    for (const job of Object.values(workflow.jobs)) {
      for (const step of job.steps ?? []) {
        if (!step.run) continue;
        const { commands, files: written } = kubectlCommands(step.run);
        const createdHere = [...written.values()].flatMap((m) =>
          [...m.matchAll(/"name":\s*"([^"]+)"/g)].map((x) => x[1]),
        );
        for (const { argv } of commands) {
          // Without --namespace, kubectl uses its context's namespace, unknown here: any matches.
          const { flags } = parseArgs(argv);
          const namespace = flags.get("--namespace") ?? flags.get("-n");
          for (const word of argv) {
            const ref = /^(deployment|pod|service|rollout)\/([a-z0-9.-]+)$/.exec(word);
            if (ref && !exists(ref[1], ref[2], namespace) && !(ref[1] === "pod" && createdHere.includes(ref[2]))) {
              findings.push(`${path}: ${ref[1]}/${ref[2]} in ${where(namespace)} is not a rendered object`);
            }
          }
          const selector = flags.get("--selector") ?? flags.get("-l");
          if (selector) {
            const wanted = Object.fromEntries(selector.split(",").map((kv) => kv.split("=") as [string, string]));
            if (
              !podTemplates.some(
                (t) =>
                  (namespace === undefined || t.namespace === namespace) &&
                  Object.entries(wanted).every(([k, v]) => t.labels[k] === v),
              )
            ) {
              findings.push(`${path}: selector ${selector} matches no rendered pod template in ${where(namespace)}`);
            }
          }
        }
        for (const [, service, namespace] of step.run.matchAll(
          /\b([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local\b/g,
        )) {
          if (!exists("service", service, namespace))
            findings.push(`${path}: host ${service}.${namespace}.svc.cluster.local names no rendered Service`);
        }
      }
    }
  }
  return [...new Set(findings)];
}

/** A Deployment, or an Argo Rollouts Rollout (a pod template under spec.template too). */
const isWorkload = (o: KubernetesObject) =>
  o.kind === "Deployment" || (o.kind === "Rollout" && o.apiVersion === "argoproj.io/v1alpha1");

/** The images of a Deployment's (or Rollout's) pod template. */
const deploymentImages = (o: KubernetesObject): string[] =>
  ((o.spec?.template as { spec?: { containers?: { image?: string }[] } } | undefined)?.spec?.containers ?? []).flatMap(
    (c) => (typeof c.image === "string" ? [c.image] : []),
  );

/**
 * The image repository each deploy workflow builds, pushes and deploys (its `IMAGE`) is the one the
 * rendered Deployments run (their initialImage's repository), and it is in the registry the build
 * job logs in to with the job's GITHUB_TOKEN (ghcr.io): otherwise the pipeline would release an
 * image the cluster does not run, or push where its token is refused.
 */
export function checkImageNames(files: RenderFiles): string[] {
  const repositories = kubernetesObjects(files)
    .filter(isWorkload)
    .flatMap(deploymentImages)
    .flatMap((image) => {
      const repository = parseImageReference(image)?.repository;
      return repository === undefined ? [] : [repository];
    });
  const findings: string[] = [];
  for (const { path, document } of workflowDocuments(files)) {
    const image = (document as { env?: Record<string, unknown> }).env?.IMAGE;
    if (typeof image !== "string") continue;
    if (registryOf(image) !== pushRegistry)
      findings.push(
        `${path}: IMAGE ${image} is in ${registryOf(image)}, but the build job pushes with the job's GITHUB_TOKEN, which only ${pushRegistry} accepts`,
      );
    if (!repositories.includes(image))
      findings.push(
        `${path}: IMAGE ${image} is the repository of no rendered Deployment's image (${[...new Set(repositories)].join(", ") || "none"}): the pipeline would release an image the cluster does not run`,
      );
  }
  return findings;
}
