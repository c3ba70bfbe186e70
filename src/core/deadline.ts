// A hard deadline around an await that could otherwise wait forever (issue 16: two searches took
// 604 s and 123 s with an idle CPU). AbortSignal.timeout on fetch() bounds the wait for headers,
// but not always the body read that follows, nor a service binding or RPC that ignores signals:
// the race below settles at the deadline whatever the callee does, and aborts it when it can.
// Pure (timers and AbortController only); used by the data service client, the fan-out and webhooks.

export class DeadlineError extends Error {
  override name = "TimeoutError";
}

/** Runs `run` with a signal that aborts at `ms`; rejects with DeadlineError at `ms` at the latest. */
export async function withDeadline<T>(ms: number, what: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new DeadlineError(`${what} timed out after ${ms} ms`);
      controller.abort(err);
      reject(err);
    }, ms);
  });
  const work = run(controller.signal);
  work.catch(() => {}); // settled after the deadline: nobody listens any more
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
