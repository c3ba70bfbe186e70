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
 * The first non-null result of `fn` over items, asked in order with at most `limit` in flight.
 * It answers as soon as one call finds it (calls still in flight are not awaited, and no item
 * after them is asked), or null once every item has answered null: a lookup over any number of
 * aggregators is never cut at a fixed count, and a hit among the first items costs one round trip.
 * The first rejection rejects the whole, unless a result was found before it.
 */
export function firstFound<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R | null>,
): Promise<R | null> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let inFlight = 0;
    let settled = false;
    const finish = (found: R | null) => {
      settled = true;
      resolve(found);
    };
    const launch = () => {
      while (!settled && inFlight < limit && next < items.length) {
        const item = items[next++];
        inFlight++;
        (async () => fn(item))().then(
          (r) => {
            inFlight--;
            if (settled) return;
            if (r !== null && r !== undefined) finish(r);
            else launch();
          },
          (err: unknown) => {
            inFlight--;
            if (settled) return;
            settled = true;
            reject(err);
          },
        );
      }
      if (!settled && inFlight === 0 && next >= items.length) finish(null);
    };
    launch();
  });
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
