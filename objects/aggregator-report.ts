// What an aggregator reports about itself: the monotonic counters of GET /metrics and the
// flush state of /health. Totals of live segments are added to the folded ones in `totals`.
import type { AggregatorHealth, AggregatorMetrics } from "./aggregator-types.js";
import type { AggregatorParts } from "./jobs/context.js";
import type { FlushJob } from "./jobs/flush-job.js";
import * as store from "./log-store.js";
import { rejectionCounts } from "./rejections.js";
import type { TailSockets } from "./tail-sockets.js";

export function aggregatorMetrics(
  parts: AggregatorParts,
  flush: FlushJob,
  tails: TailSockets,
  meter: { readonly rowsWritten: number },
): AggregatorMetrics {
  const t = store.readTotals(parts.sql);
  const live = parts.store.liveTotals();
  const n = (k: string) => (t.get(k) ?? 0) + (live.get(k) ?? 0);
  const f = flush.state;
  const { service, domain } = parts.identity();
  return {
    service,
    domain,
    received: {
      error: n("received_error"),
      warn: n("received_warn"),
      info: n("received_info"),
      debug: n("received_debug"),
    },
    rejected: {
      error: n("rejected_error"),
      warn: n("rejected_warn"),
      info: n("rejected_info"),
      debug: n("rejected_debug"),
      unknown: n("rejected_unknown"),
    },
    rejected_by_reason: rejectionCounts(parts.sql),
    duplicates: n("duplicates"),
    rate_limited: n("rate_limited"),
    flushed_total: f.flushedTotal,
    flush_failed_total: f.flushFailedTotal,
    dead_lettered_total: f.deadLetteredTotal,
    pending: flush.pending(),
    dead_letters: store.countDeadLetters(parts.sql),
    tail_subscribers: tails.count(),
    tail_dropped_total: tails.droppedTotal,
    patterns: parts.patterns.size,
    patterns_evicted_total: parts.patterns.evictedTotal,
    // read last: the lines above may create a table on first use, and those rows count too
    rows_written_total: meter.rowsWritten,
    segments: parts.store.segmentCount,
  };
}

export function aggregatorHealth(parts: AggregatorParts, flush: FlushJob): AggregatorHealth {
  const f = flush.state;
  return {
    pending: flush.pending(),
    dead_letters: store.countDeadLetters(parts.sql),
    failures: f.failures,
    last_error: f.lastError,
    next_retry_at: f.nextRetryAt,
    flushed_total: f.flushedTotal,
    flush_failed_total: f.flushFailedTotal,
    rejected: rejectionCounts(parts.sql),
  };
}
