// Every third-party action the generated workflows use, pinned by the full commit SHA its release
// tag resolves to in the action's repository. The one place a pin is written.

export interface PinnedAction {
  readonly repository: string;
  readonly sha: string;
  readonly tag: string;
}

const pin = (repository: string, tag: string, sha: string): PinnedAction => ({ repository, tag, sha });

export const actions = {
  checkout: pin("actions/checkout", "v6.1.0", "d23441a48e516b6c34aea4fa41551a30e30af803"),
  setupNode: pin("actions/setup-node", "v6.5.0", "249970729cb0ef3589644e2896645e5dc5ba9c38"),
  uploadArtifact: pin("actions/upload-artifact", "v7.0.0", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f"),
  dockerLogin: pin("docker/login-action", "v4.1.0", "4907a6ddec9925e35a0a9e82d7399ccc52663121"),
  dockerMetadata: pin("docker/metadata-action", "v6.2.0", "dc802804100637a589fabce1cb79ff13a1411302"),
  setupBuildx: pin("docker/setup-buildx-action", "v4.3.0", "37fe631027851001ddb9b187196cc803df7f5f0e"),
  buildPush: pin("docker/build-push-action", "v7.3.0", "53b7df96c91f9c12dcc8a07bcb9ccacbed38856a"),
  // Never by tag: 76 of its 77 tags were force-pushed to a credential stealer (GHSA-69fq-xp46-6x23).
  trivy: pin("aquasecurity/trivy-action", "v0.36.0", "ed142fd0673e97e23eac54620cfb913e5ce36c25"),
  cosignInstaller: pin("sigstore/cosign-installer", "v4.1.2", "6f9f17788090df1f26f669e9d70d6ae9567deba6"),
  sbom: pin("anchore/sbom-action", "v0.24.0", "e22c389904149dbc22b58101806040fa8d37a610"),
  awsCredentials: pin("aws-actions/configure-aws-credentials", "v6.2.3", "e6de054238d6b7531b4efff3b6587d9aade6a06c"),
  setupKubectl: pin("Azure/setup-kubectl", "v5.1.0", "829323503d1be3d00ca8346e5391ca0b07a9ab0d"),
  pulumi: pin("pulumi/actions", "v7.0.0", "8e5e406f4007fca908480587cb9893c07090f58d"),
  pulumiAuth: pin("pulumi/auth-actions", "v2.1.0", "141415910c3beb54e03b48e9057c204c97b956f2"),
  uploadSarif: pin("github/codeql-action/upload-sarif", "v4.36.2", "8aad20d150bbac5944a9f9d289da16a4b0d87c1e"),
  slack: pin("slackapi/slack-github-action", "v3.0.5", "0d95c9a7becc1e6e297d76df9bc735c44f4cbcbc"),
} as const;

/** The `uses:` value of a pinned action; the writer appends the tag as a comment. */
export const uses = (action: PinnedAction) => `${action.repository}@${action.sha}`;
