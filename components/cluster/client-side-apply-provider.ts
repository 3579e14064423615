// The Kubernetes provider every object of the service is declared through. It applies client-side
// (three-way merge against the last-applied inputs) instead of server-side apply: the pipeline owns
// the Deployments' images, which `kubectl set image` writes as field manager `kubectl-set`, and a
// server-side apply sending another value stops on a field-manager conflict (pulumi-kubernetes#2542).
// `ignoreChanges` on `spec.template.spec.containers[0].image` does not keep the released image by
// itself: the provider looks the path up split on `.` and never finds `containers[0]`. What keeps
// it is the refresh before every update (Pulumi.yaml `options.refresh: always`). The real tier
// proves both (test/cluster/token-mode.test.ts, scenario 4); docs/cluster.md, "Release ownership".
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { parse } from "yaml";
import { ConfigError } from "../../config/errors";
import { givenProvider } from "../shared/providers";

/** Provider settings; server-side apply is not among them: it is always off. */
export type ClientSideApplyProviderArgs = Omit<k8s.ProviderArgs, "enableServerSideApply">;

/** A Kubernetes provider with server-side apply turned off. */
export class ClientSideApplyProvider extends k8s.Provider {
  /** Marks the type so that a provider with server-side apply cannot be passed in its place. */
  readonly serverSideApply = false as const;

  constructor(name: string, args: ClientSideApplyProviderArgs = {}, opts?: pulumi.ResourceOptions) {
    super(name, { ...args, enableServerSideApply: false }, opts);
  }
}

/**
 * The provider a cluster component declares its objects through: the one given in its Args or its
 * options (see givenProvider), else `create()`. A given provider must be a ClientSideApplyProvider:
 * a plain one may apply server-side and then stops on the pipeline's image.
 */
export function clusterProvider(
  component: pulumi.ComponentResource,
  fromArgs: ClientSideApplyProvider | undefined,
  where: string,
  create: () => ClientSideApplyProvider,
): ClientSideApplyProvider {
  const given = givenProvider(component, "kubernetes", fromArgs, where);
  if (given === undefined) return create();
  if ((given as Partial<ClientSideApplyProvider>).serverSideApply !== false) {
    throw new ConfigError(
      [
        {
          propertyPath: fromArgs !== undefined ? "provider" : "opts.providers",
          reason:
            "must be a ClientSideApplyProvider (server-side apply off: the pipeline's `kubectl set image` owns the images): declare the kubernetes provider as new ClientSideApplyProvider(name, { kubeconfig })",
        },
      ],
      { holder: where },
    );
  }
  return given as ClientSideApplyProvider;
}

/**
 * Why `kubeconfig` (contents, or the path of a file, as the provider takes it) is no kubeconfig,
 * or undefined. A path is left to the provider, which reads the file.
 */
export function kubeconfigProblem(kubeconfig: string): string | undefined {
  const text = kubeconfig.trim();
  if (text === "") return "is empty: give a kubeconfig's contents or its path";
  if (!text.includes("\n") && !text.startsWith("{")) return undefined;
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch {
    return "is not YAML or JSON: give a kubeconfig's contents or its path";
  }
  const config = parsed as { clusters?: unknown; contexts?: unknown } | null;
  const listed = (v: unknown) => Array.isArray(v) && v.length > 0;
  return typeof config === "object" && config !== null && listed(config.clusters) && listed(config.contexts)
    ? undefined
    : "is not a kubeconfig: it must list clusters and contexts";
}
