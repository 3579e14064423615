// The account's IAM OIDC provider for GitHub Actions, created here or adopted by ARN. An account
// holds one provider per issuer URL (a second create fails EntityAlreadyExists: AWS IAM docs,
// "Create an OpenID Connect (OIDC) identity provider in IAM"), so services sharing an account
// create it once, standalone, and pass its `arn` to each of their roles.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { checkedInput, settingRule } from "../shared/checked-input";
import { githubOidc } from "../shared/oidc-subjects";

export interface GithubOidcProviderArgs {
  /**
   * ARN of the account's existing provider for token.actions.githubusercontent.com. When set,
   * nothing is created: the component only passes the ARN on. Default: none, and the component
   * creates the provider.
   */
  readonly existingProviderArn?: pulumi.Input<string>;
  /** Tags of the created provider (ignored when adopting one). Default: none. */
  readonly tags?: Record<string, string>;
}

export class GithubOidcProvider extends pulumi.ComponentResource {
  /** ARN of the provider: the Federated principal of every role's trust policy. */
  public readonly arn: pulumi.Output<string>;
  /** True when this component created the provider, false when it adopted an existing one. */
  public readonly created: boolean;

  constructor(name: string, args: GithubOidcProviderArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    // A plain ARN is checked before anything registers, an Output once its value is known (then
    // failing on this component).
    const constructed: { component?: pulumi.Resource } = {};
    const existing =
      args.existingProviderArn === undefined
        ? undefined
        : checkedInput(args.existingProviderArn, {
            holder: `GithubOidcProvider ${name}`,
            propertyPath: "existingProviderArn",
            problem: settingRule("oidcProviderArn"),
            component: () => constructed.component,
          });
    super("canary-pipeline:aws:GithubOidcProvider", name, {}, opts);
    constructed.component = this;
    this.created = existing === undefined;
    if (existing !== undefined) {
      this.arn = pulumi.output(existing);
    } else {
      const provider = new aws.iam.OpenIdConnectProvider(
        `${name}-provider`,
        {
          url: githubOidc.url,
          clientIdLists: [githubOidc.audience],
          // No thumbprintLists: optional in @pulumi/aws 7, and AWS validates GitHub's issuer
          // against its own trusted CAs, ignoring thumbprints (GitHub docs, "Configuring OpenID
          // Connect in Amazon Web Services").
          tags: args.tags ?? {},
        },
        { parent: this },
      );
      this.arn = provider.arn;
    }
    this.registerOutputs({ arn: this.arn });
  }
}
