// The baseline: the same custom resources with the same inputs, registered flat (no components,
// no component logic, no invokes), each waiting for what it waited for in the render and going
// through the same provider (the render's explicit Kubernetes and GitHub providers). Each is
// built by its provider SDK's own class (e.g. aws.iam.Role), which declares its output properties
// as the render's does; a type without one falls back to `new pulumi.CustomResource(type, ...)`.
// What remains is the cost of the Pulumi SDKs themselves.
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as github from "@pulumi/github";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { secretMarker, type RegisteredResource } from "../testing/mock-engine";

/** Recorded inputs back to program inputs: secret markers become secret values again. */
export function reviveInputs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reviveInputs);
  if (value === null || typeof value !== "object") return value;
  if (secretMarker in value) return pulumi.secret(reviveInputs((value as Record<string, unknown>)[secretMarker]));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviveInputs(v)]));
}

/** The custom resources, each after every resource it depends on. */
export function dependencyOrder(resources: readonly RegisteredResource[]): RegisteredResource[] {
  const custom = new Map(resources.filter((r) => r.custom).map((r) => [r.urn, r]));
  const ordered: RegisteredResource[] = [];
  const seen = new Set<string>();
  const visit = (r: RegisteredResource) => {
    if (seen.has(r.urn)) return;
    seen.add(r.urn);
    for (const d of [...r.dependencies, ...(r.provider ? [r.provider] : [])]) {
      const dependency = custom.get(d);
      if (dependency) visit(dependency);
    }
    ordered.push(r);
  };
  for (const r of custom.values()) visit(r);
  return ordered;
}

const providerPrefix = "pulumi:providers:";
const packages: Record<string, unknown> = { aws, command, github, kubernetes: k8s };

type ResourceClass = new (
  name: string,
  args: pulumi.Inputs,
  opts: pulumi.CustomResourceOptions,
) => pulumi.CustomResource;

/**
 * The SDK class of a type token: `aws:iam/role:Role` is aws.iam.Role, `kubernetes:core/v1:Secret`
 * k8s.core.v1.Secret, `github:index/repositoryFile:RepositoryFile` github.RepositoryFile, and
 * `pulumi:providers:kubernetes` k8s.Provider.
 */
export function sdkClass(type: string): ResourceClass | undefined {
  const [pkg, module, name] = type.startsWith(providerPrefix)
    ? [type.slice(providerPrefix.length), "index", "Provider"]
    : type.split(":");
  // Kubernetes API groups: `networking.k8s.io/v1` is k8s.networking.v1.
  const segments = pkg === "kubernetes" ? module.split("/").map((s) => s.split(".")[0]) : [module.split("/")[0]];
  let namespace = packages[pkg] as Record<string, unknown> | undefined;
  for (const segment of segments.filter((s) => s !== "index"))
    namespace = namespace?.[segment] as Record<string, unknown> | undefined;
  const found = namespace?.[name] as (ResourceClass & { __pulumiType?: string }) | undefined;
  return typeof found === "function" && (found.__pulumiType === type || name === "Provider") ? found : undefined;
}

// The SDK's classes are abstract; these add nothing to them.
class ReplayedResource extends pulumi.CustomResource {
  constructor(type: string, name: string, inputs: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
    super(type, name, inputs, opts);
  }
}
class ReplayedProvider extends pulumi.ProviderResource {
  constructor(pkg: string, name: string, inputs: pulumi.Inputs, opts: pulumi.ResourceOptions) {
    super(pkg, name, inputs, opts);
  }
}

/** A program registering `resources` flat. */
export function replayProgram(resources: readonly RegisteredResource[]): () => Record<string, unknown> {
  const ordered = dependencyOrder(resources);
  return () => {
    const created = new Map<string, pulumi.Resource>();
    for (const r of ordered) {
      const inputs = reviveInputs(r.inputs) as pulumi.Inputs;
      const dependsOn = r.dependencies.flatMap((d) => created.get(d) ?? []);
      const provider = r.provider !== undefined ? (created.get(r.provider) as pulumi.ProviderResource) : undefined;
      const Class = sdkClass(r.type);
      const resource =
        Class !== undefined
          ? new Class(r.name, inputs, { dependsOn, provider })
          : r.type.startsWith(providerPrefix)
            ? new ReplayedProvider(r.type.slice(providerPrefix.length), r.name, inputs, { dependsOn })
            : new ReplayedResource(r.type, r.name, inputs, { dependsOn, provider });
      created.set(r.urn, resource);
    }
    return {};
  };
}
