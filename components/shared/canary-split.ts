// The canary split is pure arithmetic the settings' rules need too (canaryWeight must be
// reachable), so it lives in config/canary-split.ts, which imports nothing; the components read it here.
export {
  canarySplit,
  unreachableWeightMessage,
  weightOf,
  weightTolerance,
  type CanarySplit,
} from "../../config/canary-split";
