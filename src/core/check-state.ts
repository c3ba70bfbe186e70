// Stored error-rate checks: the state machine with hysteresis. A check breaches when the live
// error rate exceeds its threshold (with at least min_events events in the window) and recovers
// only when the rate falls to RECOVERY_FACTOR × threshold or below (or the window holds fewer
// than min_events events), so a rate hovering at the threshold does not flap. Pure.
import type { ErrorRate } from "./error-rate.js";

export const RECOVERY_FACTOR = 0.8;

export type CheckState = "ok" | "breached";

export function nextCheckState(current: CheckState, r: ErrorRate): CheckState {
  if (current === "ok") return r.ok ? "ok" : "breached";
  const recovered = r.total < r.min_events || r.rate <= r.threshold * RECOVERY_FACTOR;
  return recovered ? "ok" : "breached";
}
