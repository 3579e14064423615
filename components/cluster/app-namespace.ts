// The service's namespace, labelled for Pod Security Admission: the API server refuses any pod that
// does not meet the `restricted` profile, and audits and warns on the same profile.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

/** The Pod Security Standards profile every pod of the namespace must meet. */
export const podSecurityLevel = "restricted";

export interface AppNamespaceArgs {
  /** The namespace's name (a DNS-1123 label). Required. */
  readonly name: string;
  /** The service it belongs to (`app.kubernetes.io/part-of`). Required. */
  readonly appName: string;
  /**
   * The Pod Security Standards version the profile is checked against (`v1.33`, or `latest`).
   * Default: `latest`, the cluster's own version.
   */
  readonly podSecurityVersion?: string;
  /** The provider to declare the namespace through (default: the parent's). */
  readonly provider?: k8s.Provider;
}

/** The labels that enforce, audit and warn on the `restricted` profile. */
export function podSecurityLabels(version: string): Record<string, string> {
  return Object.fromEntries(
    ["enforce", "audit", "warn"].flatMap((mode) => [
      [`pod-security.kubernetes.io/${mode}`, podSecurityLevel],
      [`pod-security.kubernetes.io/${mode}-version`, version],
    ]),
  );
}

/** A namespace that admits only pods meeting the `restricted` Pod Security Standard. */
export class AppNamespace extends pulumi.ComponentResource {
  readonly namespace: k8s.core.v1.Namespace;
  /** The namespace's name, known once it exists (use it to order what goes inside). */
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: AppNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("canary-pipeline:kubernetes:AppNamespace", name, {}, opts);
    const version = args.podSecurityVersion ?? "latest";
    this.namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: args.name,
          labels: { "app.kubernetes.io/part-of": args.appName, ...podSecurityLabels(version) },
        },
      },
      { parent: this, provider: args.provider },
    );
    this.name = this.namespace.metadata.name;
    this.registerOutputs({ name: this.name });
  }
}
