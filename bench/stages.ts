// Where one log's time goes, in µs per log, stage by stage, measured in Node on batches of 100
// realistic entries (bench/messages.ts). The stages that need workerd (the RPC hop and the
// SQLite write) are derived in bench/run.ts from the in-run diagnostics instead.
import { RollingCounters } from "../src/core/rolling-counters.js";
import { DEFAULT_REDACTION } from "../src/core/redact.js";
import { matchesFilter } from "../src/core/log-filter.js";
import { PatternMiner } from "../src/core/pattern-miner.js";
import { encodeSegments } from "../src/core/segment-codec.js";
import { shardOf } from "../src/core/sharding.js";
import { aggregatorName, type StoredLogEntry } from "../src/schema/log-entry.js";
import { validateEntries } from "../src/schema/ingest.js";
import { makeBodies } from "./messages.js";

/** µs per log of `fn` over `bodies` (each of `perBody` logs), after a warm-up pass. */
function perLog<T>(inputs: T[], perBody: number, fn: (x: T) => unknown): number {
  for (const x of inputs.slice(0, 20)) fn(x);
  const t0 = performance.now();
  let n = 0;
  for (let round = 0; round < 3; round++)
    for (const x of inputs) {
      fn(x);
      n += perBody;
    }
  return ((performance.now() - t0) * 1000) / n;
}

export function measureStages(): Record<string, number> {
  const bodies = makeBodies(9, 200, 100, () => "stage-svc").map((b) => b.toString());
  const parsed = bodies.map((b) => (JSON.parse(b) as { logs: unknown[] }).logs);
  let id = 0;
  const makeId = () => `id-${++id}`;
  const now = Date.now();
  const validated = parsed.map((logs) => validateEntries(logs, now, makeId).valid.map((v) => v.entry));
  const miner = new PatternMiner({ maxPatterns: 1000 });
  let seq = 0;
  const stored: StoredLogEntry[][] = validated.map((batch) =>
    batch.map((e) => ({ ...e, seq: ++seq, pattern_id: miner.add(e.message, now).id })),
  );
  const counters = new RollingCounters();
  const subscribers = Array.from({ length: 20 }, (_, i) => (i % 2 ? { levels: ["error" as const] } : {}));
  const validation = perLog(parsed, 100, (logs) => validateEntries(logs, now, makeId));
  const withRedaction = perLog(parsed, 100, (logs) => validateEntries(logs, now, makeId, "logs", DEFAULT_REDACTION));
  const freshMiner = new PatternMiner({ maxPatterns: 1000 });
  return {
    body_parse: perLog(bodies, 100, (b) => JSON.parse(b)),
    validation,
    redaction: Math.max(0, withRedaction - validation),
    routing: perLog(validated, 100, (batch) => {
      const groups = new Map<string, unknown[]>();
      for (const e of batch) {
        const name = `${aggregatorName(e.domain, e.service)}#${shardOf(e.id, 1)}`;
        const g = groups.get(name);
        if (g) g.push(e);
        else groups.set(name, [e]);
      }
      return groups;
    }),
    pattern_assignment: perLog(validated, 100, (batch) => {
      for (const e of batch) freshMiner.add(e.message, now);
    }),
    storage_encode: perLog(stored, 100, (batch) => encodeSegments(batch)),
    counters: perLog(stored, 100, (batch) => {
      for (const e of batch) counters.add(e.level, Math.min(e.timestamp, e.received_at), now);
    }),
    tail_fanout_20_subscribers: perLog(stored, 100, (batch) => {
      for (const f of subscribers) batch.filter((e) => matchesFilter(e, f));
      return JSON.stringify({ type: "logs", logs: batch });
    }),
  };
}
