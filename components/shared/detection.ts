// How likely the pipeline is to catch a bad canary from the requests it sends itself. Every request
// through the canary Service reaches a canary pod, and one failed request fails the smoke test or
// the bake window; so a canary that fails each request independently with probability p is caught
// by n such requests with probability 1 − (1 − p)^n. Requests through the main Service reach the
// canary only by chance and are not counted; nor is real traffic, which only canaryAnalysis judges.
import { bakeRounds, defaultBakeIntervalSeconds } from "./canary-bake";

/** The chance that at least one of `requests` independent requests fails, each with `failureRate`. */
export function detectionChance(failureRate: number, requests: number): number {
  return 1 - (1 - failureRate) ** requests;
}

/** The requests the smoke test sends through the canary Service. */
export const smokeCanaryRequests = (smokeRequests: number, paths: number) => smokeRequests * paths;

/** The probe requests the bake window sends through the canary Service (one per path and round). */
export const bakeCanaryRequests = (bakeSeconds: number, paths: number, intervalSeconds = defaultBakeIntervalSeconds) =>
  bakeSeconds === 0 ? 0 : bakeRounds(bakeSeconds, Math.min(intervalSeconds, bakeSeconds)) * paths;

/** A chance as docs/pipeline.md prints it: a percentage rounded down to 0.1, so it never overstates. */
export const formatChance = (chance: number) => `${(Math.floor(chance * 1000) / 10).toFixed(1)}%`;
