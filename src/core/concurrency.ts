// Runs an async function over items with at most `limit` in flight (fan-out to aggregators
// must not open thousands of subrequests at once).
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The first non-null result of `fn` over items, asking `chunkSize` items at a time (each chunk
 * with at most `limit` in flight) and stopping after the chunk that found one: a lookup over
 * any number of aggregators is never cut at a fixed count, and usually costs one chunk.
 */
export async function firstInChunks<T, R>(
  items: readonly T[],
  chunkSize: number,
  limit: number,
  fn: (item: T) => Promise<R | null>,
): Promise<{ found: R | null; asked: number }> {
  for (let start = 0; start < items.length; start += chunkSize) {
    const chunk = items.slice(start, start + chunkSize);
    const results = await mapLimit(chunk, limit, fn);
    const found = results.find((r) => r !== null);
    if (found !== undefined && found !== null) return { found, asked: start + chunk.length };
  }
  return { found: null, asked: items.length };
}

/** A call that did not settle within its deadline (see withDeadline). */
export class DeadlineExceeded extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} did not answer within ${ms} ms`);
  }
}

/**
 * `promise`, or a DeadlineExceeded rejection after `ms`: a request that waits on another object
 * must end even when that object never answers (the call itself is not cancelled; its late
 * result is dropped).
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(what, ms)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
