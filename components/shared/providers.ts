// Which provider a component's children go through. Pulumi's convention, which pulumi-eks follows:
// a provider given in the component's options (opts.provider, opts.providers, or inherited from its
// parent's) is used, and the component makes its own only when none is given. Our components also
// take one in their Args (older callers pass it there): either way works, two different ones are
// refused rather than one silently winning.
import type * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../config/errors";

/** A provider's package (`kubernetes`): the SDK's ProviderResource.getPackage, which its types do not declare. */
const packageOf = (provider: pulumi.ProviderResource) => (provider as unknown as { getPackage(): string }).getPackage();

/**
 * The provider of package `pkg` that resource options give, as the SDK resolves it for a
 * component (pulumi/pulumi sdk/nodejs/resource.ts, Resource's constructor): opts.provider, then
 * opts.providers, then the parent's. Readable before the component is constructed, so a check
 * can refuse Args before anything registers.
 */
export function optionsProvider(
  opts: pulumi.ComponentResourceOptions | undefined,
  pkg: string,
): pulumi.ProviderResource | undefined {
  if (opts?.provider !== undefined && packageOf(opts.provider) === pkg) return opts.provider;
  const providers = opts?.providers;
  const listed = Array.isArray(providers) ? providers.find((p) => packageOf(p) === pkg) : providers?.[pkg];
  return listed ?? opts?.parent?.getProvider(`${pkg}::`);
}

/**
 * The provider of package `pkg` given to `component`: through its Args (property `property`), or
 * through its options (which include its parent's). Undefined when neither gives one. Throws
 * ConfigError (`where` is the component: `CanaryCluster orders`) when they differ.
 */
export function givenProvider<P extends pulumi.ProviderResource>(
  component: pulumi.ComponentResource,
  pkg: string,
  fromArgs: P | undefined,
  where: string,
  property = "provider",
): P | pulumi.ProviderResource | undefined {
  const fromOptions = component.getProvider(`${pkg}::`);
  if (fromArgs !== undefined && fromOptions !== undefined && fromArgs !== fromOptions) {
    throw new ConfigError(
      [
        {
          propertyPath: property,
          reason: `is another ${pkg} provider than the one in the resource options (opts.provider, opts.providers or the parent's): give one of them`,
        },
      ],
      { holder: where },
    );
  }
  return fromArgs ?? fromOptions;
}
