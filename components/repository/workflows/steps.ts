// Steps more than one generated workflow uses, each written once.
import { actions, uses } from "./actions";
import type { Step } from "./model";

/** Checks the repository out without leaving the token in .git/config (zizmor's artipacked audit). */
export const checkout = (): Step => ({
  name: "Check out",
  uses: uses(actions.checkout),
  with: { "persist-credentials": false },
});

/** Node.js with setup-node's npm cache (keyed on package-lock.json). */
export const setupNode = (version: string, directory?: string): Step => ({
  name: "Set up Node.js",
  uses: uses(actions.setupNode),
  with: {
    "node-version": version,
    cache: "npm",
    ...(directory ? { "cache-dependency-path": `${directory}/package-lock.json` } : {}),
  },
});

/** A bash step: `shell: bash` runs with `-eo pipefail`. */
export const bash = (name: string, run: string, extra: Omit<Step, "name" | "run" | "shell"> = {}): Step => ({
  name,
  ...extra,
  shell: "bash",
  run,
});

/** Logs in to GHCR with the job's own token (packages scope as the job grants it). */
export const ghcrLogin = (): Step => ({
  name: "Log in to GHCR",
  uses: uses(actions.dockerLogin),
  with: { registry: "ghcr.io", username: "${{ github.actor }}", password: "${{ secrets.GITHUB_TOKEN }}" },
});

/**
 * Pull requests from forks get no secrets and no id-token (GitHub docs, "Using secrets in GitHub
 * Actions"): jobs that need them skip.
 */
export const sameRepositoryPullRequest = "github.event.pull_request.head.repo.full_name == github.repository";
