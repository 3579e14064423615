// The credentials the kubelet pulls the service's private images from GHCR with: a
// `kubernetes.io/dockerconfigjson` Secret built from a token with read:packages. The token stays
// secret end to end: it reaches the Secret only inside a `pulumi.secret` value.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { refuseArgs } from "../../config/errors";

/** The registry the service's images come from. */
export const ghcrRegistry = "ghcr.io";

export interface ImagePullSecretArgs {
  /** The Secret's name. Required. */
  readonly name: string;
  /** The Secret's namespace. Required. */
  readonly namespace: pulumi.Input<string>;
  /** The service it belongs to (`app.kubernetes.io/part-of`). Required. */
  readonly appName: string;
  /**
   * The login sent with the token. GHCR identifies the account by the token itself; GitHub's docs
   * ask for the token owner's login, so pass it when you know it (any non-empty value works). Required.
   */
  readonly username: string;
  /** A GitHub token with read:packages (keep it a secret Output). Required. */
  readonly token: pulumi.Input<string>;
  /** The registry host. Default: ghcr.io. */
  readonly registry?: string;
  /** The provider to declare the Secret through (default: the parent's). */
  readonly provider?: k8s.Provider;
}

/** The `.dockerconfigjson` document for one registry. */
export function dockerConfigJson(registry: string, username: string, token: string): string {
  const auth = Buffer.from(`${username}:${token}`).toString("base64");
  return JSON.stringify({ auths: { [registry]: { username, password: token, auth } } });
}

/** An image-pull Secret for GHCR. */
export class ImagePullSecret extends pulumi.ComponentResource {
  readonly secret: k8s.core.v1.Secret;
  /** The Secret's name, for a pod's imagePullSecrets (known once it exists). */
  readonly secretName: pulumi.Output<string>;

  constructor(name: string, args: ImagePullSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    if (args.username === "")
      refuseArgs(`ImagePullSecret ${name}`, [
        { propertyPath: "username", reason: "must not be empty (registries refuse an empty login)" },
      ]);
    super("canary-pipeline:kubernetes:ImagePullSecret", name, {}, opts);
    const registry = args.registry ?? ghcrRegistry;
    this.secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata: {
          name: args.name,
          namespace: args.namespace,
          labels: { "app.kubernetes.io/part-of": args.appName },
        },
        type: "kubernetes.io/dockerconfigjson",
        // Secret before it leaves this component; the SDK also marks all of stringData secret.
        stringData: {
          ".dockerconfigjson": pulumi.secret(
            pulumi.output(args.token).apply((t) => dockerConfigJson(registry, args.username, t)),
          ),
        },
      },
      { parent: this, provider: args.provider },
    );
    this.secretName = this.secret.metadata.name;
    this.registerOutputs({ secretName: this.secretName });
  }
}
