// Delivers a batch to a store that may refuse some entries for good (a 4xx other than 408/429):
// the batch is split in halves until each refused entry is isolated, so one bad entry never
// blocks the entries behind it. Retryable failures abort the whole delivery (the caller keeps
// the rows and backs off); nothing is ever dropped here.
export type SendResult = { kind: "ok" } | { kind: "retry"; error: string } | { kind: "refused"; error: string };

export interface Delivery<T> {
  /** true when every entry was either stored or refused; false when a retryable error stopped it */
  complete: boolean;
  delivered: T[];
  refused: { entry: T; error: string }[];
  error?: string;
  calls: number;
}

export async function deliverWithSplit<T>(
  entries: T[],
  send: (batch: T[]) => Promise<SendResult>,
  maxCalls = 64,
): Promise<Delivery<T>> {
  const out: Delivery<T> = { complete: true, delivered: [], refused: [], calls: 0 };
  // Depth-first over halves keeps entries in order and bounds the calls to ~2·refused·log2(n).
  const stack: T[][] = [entries];
  while (stack.length > 0) {
    const batch = stack.pop()!;
    if (out.calls >= maxCalls) {
      out.complete = false;
      out.error = "too many refused entries in one flush; continuing next run";
      return out;
    }
    out.calls++;
    const r = await send(batch);
    if (r.kind === "ok") {
      out.delivered.push(...batch);
    } else if (r.kind === "retry") {
      out.complete = false;
      out.error = r.error;
      return out;
    } else if (batch.length === 1) {
      out.refused.push({ entry: batch[0], error: r.error });
    } else {
      const mid = Math.ceil(batch.length / 2);
      stack.push(batch.slice(mid), batch.slice(0, mid));
    }
  }
  return out;
}
