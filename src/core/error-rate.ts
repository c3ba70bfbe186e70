// The live error-rate check: pure arithmetic over level counts, shared by the HTTP route, the
// stored checks and the dashboard so they can never disagree.
import type { LevelCounts } from "./rolling-counters.js";

export interface ErrorRate {
  rate: number;
  errors: number;
  total: number;
  threshold: number;
  min_events: number;
  ok: boolean;
}

/** ok unless there were at least `minEvents` events and the error share exceeds `threshold`. */
export function evaluateErrorRate(counts: LevelCounts, threshold: number, minEvents: number): ErrorRate {
  const rate = counts.total === 0 ? 0 : counts.error / counts.total;
  const ok = counts.total < minEvents || rate <= threshold;
  return { rate, errors: counts.error, total: counts.total, threshold, min_events: minEvents, ok };
}
