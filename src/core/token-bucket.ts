// A token bucket (rate per second, burst capacity) with the clock as an argument. The aggregator
// keeps one per service: it is the only writer for its service, so the limit is exact.
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    nowMs = 0,
  ) {
    this.#tokens = burst;
    this.#at = nowMs;
  }

  /** Takes `n` tokens if all are there; otherwise nothing, and how long until they would be. */
  take(n: number, nowMs: number): { ok: true } | { ok: false; retryAfterMs: number } {
    this.#tokens = Math.min(this.burst, this.#tokens + ((nowMs - this.#at) / 1000) * this.ratePerSecond);
    this.#at = nowMs;
    if (n <= this.#tokens) {
      this.#tokens -= n;
      return { ok: true };
    }
    return {
      ok: false,
      retryAfterMs: Math.ceil(((Math.min(n, this.burst) - this.#tokens) / this.ratePerSecond) * 1000),
    };
  }
}
