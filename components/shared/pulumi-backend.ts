// Where the stacks' state lives, as the workflows that preview them need it: Pulumi Cloud (the job
// exchanges its GitHub OIDC token for a short-lived Pulumi token) or an S3 bucket (the preview
// role's AWS session reads the stack's state objects and decrypts with its KMS key). No workflow
// reads a stored Pulumi token.

/** A Pulumi Cloud backend. */
export interface CloudBackend {
  readonly kind: "cloud";
  readonly url: string;
  readonly organization: string;
  /** The team whose token the workflows get; none: an organization token. */
  readonly team?: string;
}

/** A self-managed backend in an S3 bucket, with the awskms secrets provider. */
export interface S3Backend {
  readonly kind: "s3";
  readonly url: string;
  readonly bucket: string;
  /** The key prefix inside the bucket, without slashes at either end ("" for the bucket's root). */
  readonly prefix: string;
  readonly keyArn: string;
}

export type PulumiBackend = CloudBackend | S3Backend;

/** The backend settings, as config/schema.ts validates them. */
export interface BackendSettings {
  readonly pulumiBackendUrl?: string;
  readonly pulumiOrganization?: string;
  readonly pulumiTeam?: string;
  readonly pulumiSecretsKeyArn?: string;
}

/** The backend the settings name, or undefined when none is set (no preview or drift workflow). */
export function pulumiBackend(settings: BackendSettings): PulumiBackend | undefined {
  const url = settings.pulumiBackendUrl;
  if (url === undefined) return undefined;
  if (url.startsWith("s3://")) {
    const [location] = url.slice("s3://".length).split("?");
    const [bucket, ...prefix] = location.split("/");
    return { kind: "s3", url, bucket, prefix: prefix.join("/"), keyArn: settings.pulumiSecretsKeyArn! };
  }
  return {
    kind: "cloud",
    url,
    organization: settings.pulumiOrganization!,
    ...(settings.pulumiTeam ? { team: settings.pulumiTeam } : {}),
  };
}

/**
 * What `pulumi preview` of `project`/`stack` reads in an S3 backend, as object keys: the backend's
 * metadata and the stack's checkpoint, plain or compressed. A preview takes no lock and writes
 * nothing: the diy backend's Preview does not lock, and dry runs persist through a discarding
 * persister and add no history or backup (pulumi/pulumi pkg/backend/diy/backend.go, `Preview`
 * and `apply`; the paths in store.go, state.go `stackPath` and meta.go).
 */
export function previewStateKeys(
  backend: S3Backend,
  project: string,
  stack: string,
): { readonly objects: string[]; readonly listPrefix: string } {
  const root = backend.prefix === "" ? "" : `${backend.prefix}/`;
  const checkpoint = `${root}.pulumi/stacks/${project}/${stack}.json`;
  return {
    objects: [`${root}.pulumi/meta.yaml`, checkpoint, `${checkpoint}.gz`, `${checkpoint}.zst`],
    // stackPath lists the bucket under the checkpoint's name to find which variant exists.
    listPrefix: checkpoint,
  };
}
