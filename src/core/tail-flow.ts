// Flow control for live tail subscribers, shared by the aggregator's sockets
// (objects/tail-sockets.ts) and the tail hub (objects/tail-hub.ts). Pure: the clock is an argument.
//
// workerd does not expose `WebSocket.bufferedAmount` (cloudflare/workerd#988), so a server cannot
// see how much a slow client has left unread; `ws.send` queues without limit. Each subscriber
// therefore gets a byte budget of its own accounting: a token bucket of `bytesPerSecond` with a
// burst of `burstBytes`. What does not fit is not sent (and reported), so what the runtime can
// buffer for a client that stopped reading grows by at most `bytesPerSecond` per second.

/** Default per-subscriber budget (TAIL_SUBSCRIBER_BYTES_PER_S): 1 MiB/s ≈ 1,000 logs of 1 KB per second. */
export const DEFAULT_SUBSCRIBER_BYTES_PER_S = 1024 * 1024;

/** A token bucket over bytes: `take(n, now)` spends n bytes if the bucket holds them. */
export class ByteBudget {
  #tokens: number;
  #at: number;

  constructor(
    readonly bytesPerSecond: number,
    readonly burstBytes: number,
    now: number,
  ) {
    this.#tokens = burstBytes;
    this.#at = now;
  }

  #refill(now: number): void {
    if (now > this.#at) {
      this.#tokens = Math.min(this.burstBytes, this.#tokens + ((now - this.#at) * this.bytesPerSecond) / 1000);
      this.#at = now;
    }
  }

  /** Spends `bytes` and answers true when the bucket holds them; otherwise spends nothing. */
  take(bytes: number, now: number): boolean {
    this.#refill(now);
    if (bytes > this.#tokens) return false;
    this.#tokens -= bytes;
    return true;
  }

  available(now: number): number {
    this.#refill(now);
    return this.#tokens;
  }
}

/** A burst of two seconds' worth, at least 64 KiB (one large log must always fit). */
export function subscriberBudget(bytesPerSecond: number, now: number): ByteBudget {
  return new ByteBudget(bytesPerSecond, Math.max(64 * 1024, 2 * bytesPerSecond), now);
}

/** Reads TAIL_SUBSCRIBER_BYTES_PER_S: a positive integer, else the default. */
export function parseBytesPerSecond(value: string | undefined): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_SUBSCRIBER_BYTES_PER_S;
}

/**
 * Samples a subscriber's matching stream down to what its budget carries. Demand is measured in
 * one-second windows; for the next window the rate is budget / demand (two decimals, at least
 * 0.01), or 1 when demand fits. Sampling is deterministic (every 1/rate-th log, by an
 * accumulator), so a test can count exactly what is kept. `rate` changes only at a window
 * boundary; the caller announces each change to the client.
 */
export class TailSampler {
  static readonly WINDOW_MS = 1000;
  static readonly MIN_RATE = 0.01;
  #windowStart: number;
  #windowBytes = 0;
  #ratePct = 100; // the rate in hundredths: integer arithmetic keeps "every 1/rate-th" exact
  #acc = 0;

  constructor(
    readonly bytesPerSecond: number,
    now: number,
  ) {
    this.#windowStart = now;
  }

  get rate(): number {
    return this.#ratePct / 100;
  }

  #roll(now: number): void {
    const elapsed = now - this.#windowStart;
    if (elapsed < TailSampler.WINDOW_MS) return;
    // A window that ended more than one window ago saw no traffic after it: demand is stale.
    const demand = elapsed < 2 * TailSampler.WINDOW_MS ? (this.#windowBytes * 1000) / elapsed : 0;
    this.#ratePct =
      demand <= this.bytesPerSecond
        ? 100
        : Math.max(TailSampler.MIN_RATE * 100, Math.floor((this.bytesPerSecond / demand) * 100));
    this.#windowStart = now;
    this.#windowBytes = 0;
  }

  /** Counts a matching log of `bytes` toward demand and answers whether to keep it. */
  keep(bytes: number, now: number): boolean {
    this.#roll(now);
    this.#windowBytes += bytes;
    if (this.#ratePct >= 100) return true;
    this.#acc += this.#ratePct;
    if (this.#acc >= 100) {
      this.#acc -= 100;
      return true;
    }
    return false;
  }
}

/** The parts of a hub subscription that decide whether one entry goes to one subscriber. */
export interface HubScope {
  services?: string[];
  allowed?: string[];
  domains?: string[];
  exclude?: string[];
}

/** Whether a subscriber may and wants to see entries of `source` (domain, service): scope only. */
export function hubSeesSource(sub: HubScope, source: string, domain: string, service: string): boolean {
  if (sub.services && !sub.services.includes(service)) return false;
  if (sub.allowed && !sub.allowed.includes(service)) return false;
  if (sub.domains && !sub.domains.includes(domain)) return false;
  if (sub.exclude?.includes(source)) return false;
  return true;
}
