// Which provider a component's children go through. Pulumi's convention, which pulumi-eks follows:
// a provider given in the component's options (opts.provider, opts.providers, or inherited from its
// parent's) is used, and the component makes its own only when none is given. Our components also
// take one in their Args (older callers pass it there): either way works, two different ones are
// refused rather than one silently winning.
import type * as pulumi from "@pulumi/pulumi";

/**
 * The provider of package `pkg` given to `component`: through its Args, or through its options
 * (which include its parent's). Undefined when neither gives one. Throws when they differ.
 */
export function givenProvider<P extends pulumi.ProviderResource>(
  component: pulumi.ComponentResource, pkg: string, fromArgs: P | undefined, where: string,
): P | pulumi.ProviderResource | undefined {
  const fromOptions = component.getProvider(`${pkg}::`);
  if (fromArgs !== undefined && fromOptions !== undefined && fromArgs !== fromOptions) {
    throw new Error(`${where}: the ${pkg} provider in the Args and the one in the resource options (opts.provider, opts.providers or the parent's) differ: give one of them`);
  }
  return fromArgs ?? fromOptions;
}
