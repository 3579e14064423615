// The service's image repository, as the build job pushes to it, the deploy jobs deploy from it
// (the deploy workflow's IMAGE) and the cluster's admission policy admits it: every side derives
// it here (the workflow names re-export it), so the cluster side reads no repository module. It is
// initialImage's repository (its name without tag or digest), which the settings require to be
// under ghcr.io/<githubOwner>/, where the job's GITHUB_TOKEN may push (config/image-reference.ts).
import { parseImageReference } from "../../config/image-reference";

/**
 * The image repository of the service: initialImage's. Without an initialImage (a caller's deploy
 * settings that leave it out), the GHCR repository named after the service repository (GHCR names
 * are lower case).
 */
export const imageName = (config: {
  readonly githubOwner: string;
  readonly githubRepository: string;
  readonly initialImage?: string;
}): string =>
  (config.initialImage !== undefined ? parseImageReference(config.initialImage)?.repository : undefined) ??
  `ghcr.io/${config.githubOwner.toLowerCase()}/${config.githubRepository.toLowerCase()}`;
