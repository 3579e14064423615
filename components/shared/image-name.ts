// The service's image, as the build job pushes it and the cluster's admission policy admits it:
// both sides derive it here (the workflow names re-export it), so the cluster side reads no
// repository module.

/** The GHCR image of the service (GHCR names are lower case). */
export const imageName = (config: { readonly githubOwner: string; readonly githubRepository: string }) =>
  `ghcr.io/${config.githubOwner.toLowerCase()}/${config.githubRepository.toLowerCase()}`;
