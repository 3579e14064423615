// Canary by replica ratio: kube-proxy spreads connections over ready pods, so the canary's share
// of traffic is canary / (stable + canary). A whole number of canary pods reaches only some
// weights; one more than a percentage point away from the requested weight is refused.

/** How far (in percentage points) the real weight may be from the requested one. */
export const weightTolerance = 1;

export interface CanarySplit {
  /** Canary pods that give the weight closest to the requested one (at least 1). */
  readonly canaryReplicas: number;
  /** The weight those pods really receive, in percent. */
  readonly actualWeight: number;
  /** Whether actualWeight is within weightTolerance of the requested weight. */
  readonly reachable: boolean;
}

/** The share of traffic (percent) that `canary` pods receive beside `stable` ones. */
export function weightOf(stable: number, canary: number): number {
  return (100 * canary) / (stable + canary);
}

/** The canary pod count for `weight` percent beside `stable` replicas. */
export function canarySplit(stable: number, weight: number): CanarySplit {
  // Solve c / (s + c) = w / 100 for c; of the whole counts on either side keep the one whose
  // weight is closer (the weight is not linear in c), never 0 pods, as Argo Rollouts' basic
  // canary does for weights 1..99.
  const exact = (weight * stable) / (100 - weight);
  const distance = (c: number) => Math.abs(weightOf(stable, c) - weight);
  const [below, above] = [Math.max(1, Math.floor(exact)), Math.max(1, Math.ceil(exact))];
  const canaryReplicas = distance(above) < distance(below) ? above : below;
  const actualWeight = weightOf(stable, canaryReplicas);
  return { canaryReplicas, actualWeight, reachable: Math.abs(actualWeight - weight) <= weightTolerance };
}

const percent = (w: number) => `${w.toFixed(1)}%`;

/** The error for an unreachable weight, naming the closest reachable weights on either side. */
export function unreachableWeightMessage(stable: number, weight: number): string {
  const exact = (weight * stable) / (100 - weight);
  const below = Math.max(1, Math.floor(exact));
  const above = Math.max(below + 1, Math.ceil(exact));
  const options =
    exact < 1
      ? `1 canary pod gives ${percent(weightOf(stable, 1))}`
      : `${below} canary pod${below === 1 ? "" : "s"} give${below === 1 ? "s" : ""} ${percent(weightOf(stable, below))}, ${above} give ${percent(weightOf(stable, above))}`;
  return `${weight} is not reachable with ${stable} stable replicas: ${options}`;
}
