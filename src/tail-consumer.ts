// The Tail Worker consumer: `tail(events)` of the logger's default export (src/index.ts). Any
// Worker on the same account that declares `tail_consumers = [{ service = "edge-logger" }]` has
// its console output, uncaught exceptions and invocation outcomes delivered here after each
// invocation; src/core/tail-events.ts maps them and `ingestEntries` stores them like any batch.
//
// Trust: tail events come from the runtime, not from the network. Only Workers deployed on the
// same Cloudflare account can name this Worker as a tail consumer, so the events are ingested
// with an internal principal (ingest scope, all services) instead of an API key.
//
// Do not add the logger to its own `tail_consumers`: every tail() would log, producing events
// for the next tail() without end.
import { Principal } from "./auth.js";
import { type TailItem, traceItemsToEntries } from "./core/tail-events.js";
import type { Env } from "./env.js";
import { ingestEntries } from "./http/ingest.js";
import { MAX_BATCH_ENTRIES } from "./schema/ingest.js";

/** The principal tail events are ingested as: no key, ingest scope, every service. */
export const TAIL_PRINCIPAL = new Principal({
  name: "tail-consumer",
  hash: new Uint8Array(32),
  scopes: new Set(["ingest"]),
  services: null,
});

export interface TailReport {
  accepted: number;
  rejected: number;
  dropped: number;
}

export async function handleTail(events: readonly TailItem[], env: Env, now = Date.now()): Promise<TailReport> {
  const { entries, dropped } = traceItemsToEntries(events, now);
  const report: TailReport = { accepted: 0, rejected: 0, dropped };
  for (let i = 0; i < entries.length; i += MAX_BATCH_ENTRIES) {
    const chunk = entries.slice(i, i + MAX_BATCH_ENTRIES);
    try {
      const [reply] = await ingestEntries(env, TAIL_PRINCIPAL, chunk, "tail");
      report.accepted += reply.accepted;
      report.rejected += reply.rejected;
    } catch (err) {
      // e.g. every entry over the service's rate limit (429). The runtime does not redeliver
      // tail events, so these are lost: say so instead of failing the other chunks.
      report.rejected += chunk.length;
      console.warn("tail: ingest failed", err instanceof Error ? err.message : String(err));
    }
  }
  if (report.rejected > 0 || dropped > 0) {
    console.warn(
      `tail: ${report.accepted} stored, ${report.rejected} rejected, ${dropped} dropped over the per-call cap`,
    );
  }
  return report;
}
