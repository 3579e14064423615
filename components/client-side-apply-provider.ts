// The Kubernetes provider every object of the service is declared through. It applies client-side
// (three-way merge against the last-applied inputs) instead of server-side apply, because the
// pipeline owns fields Pulumi also declares: under server-side apply `ignoreChanges` on an
// array-indexed path such as `spec.template.spec.containers[0].image` is not honoured and a later
// `pulumi up` can hit a field-manager conflict with `kubectl set image` (field notes, "Pulumi":
// pulumi/pulumi#15412, pulumi-kubernetes#2542). Under client-side apply an ignored field is simply
// not patched. See docs/cluster.md, "Release ownership".
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

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
