// The service's image: initialImage names it, and the pipeline's own images go to the same
// repository (its name without tag or digest). The pipeline pushes with the build job's
// GITHUB_TOKEN, which only GitHub's registry accepts, and there only for packages of the
// repository's owner (GitHub docs, "Working with the Container registry": authenticating with
// GITHUB_TOKEN in a workflow). So the repository must be ghcr.io/<owner>/…, and a reference that
// names another registry or owner is refused with the reason.

/** An image reference with an explicit tag or digest (`name:tag`, `name@sha256:…`, or both). */
const imageReference =
  /^(?<name>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*?)(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$/;

/** The registry the pipeline pushes to with the job's GITHUB_TOKEN. */
export const pushRegistry = "ghcr.io";

/** An image reference's parts: its repository (registry and path), tag and digest. */
export function parseImageReference(
  reference: string,
): { readonly repository: string; readonly tag?: string; readonly digest?: string } | undefined {
  const groups = imageReference.exec(reference)?.groups;
  if (groups === undefined) return undefined;
  return {
    repository: groups.name,
    ...(groups.tag !== undefined ? { tag: groups.tag } : {}),
    ...(groups.digest !== undefined ? { digest: groups.digest } : {}),
  };
}

/**
 * The registry of a repository as Docker resolves it: its first component when that names a host
 * (a `.` or `:`, or `localhost`), else Docker Hub.
 */
export function registryOf(repository: string): string {
  const [first, ...rest] = repository.split("/");
  return rest.length > 0 && (/[.:]/.test(first) || first === "localhost") ? first : "docker.io";
}

/**
 * Why the pipeline cannot push to the repository of `reference` with the job's GITHUB_TOKEN, after
 * the reference itself (undefined: it can, ghcr.io under `owner`). `reference` is a valid image
 * reference.
 */
export function pushProblem(reference: string, owner: string): string | undefined {
  const repository = parseImageReference(reference)?.repository;
  if (repository === undefined) return undefined;
  const home = `${pushRegistry}/${owner.toLowerCase()}/`;
  const registry = registryOf(repository);
  if (registry !== pushRegistry)
    return `${JSON.stringify(reference)} is in ${registry}${registry === "docker.io" && !repository.startsWith("docker.io/") ? " (no registry named: Docker Hub)" : ""}: the pipeline pushes with the job's GITHUB_TOKEN, which only ${pushRegistry} accepts; use an image under ${home}`;
  if (!repository.startsWith(home)) {
    const other = repository.split("/")[1] ?? "";
    return `${JSON.stringify(reference)} is under ${pushRegistry}/${other}/, not the repository's owner's: the pipeline pushes with the job's GITHUB_TOKEN, which may push to packages of ${owner.toLowerCase()} only; use an image under ${home}`;
  }
  return undefined;
}
