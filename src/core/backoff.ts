// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
// Jitter"): delay = random(0, min(cap, base * 2^attempt)), never below `floorMs`. The random
// source is an argument so tests are deterministic.
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  floorMs?: number;
}

export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(opts.floorMs ?? 0, Math.floor(random() * ceiling));
}
