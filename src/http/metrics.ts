// GET /metrics (read scope): the aggregators' counters in the Prometheus text exposition format
// (https://prometheus.io/docs/instrumenting/exposition_formats/), one series per domain/service
// the key may read. Counters come from each aggregator's `metrics()` (SQLite totals, so they
// survive restarts); gauges are the values at scrape time. A sharded service's aggregators are
// summed into one series per domain/service (a series must not repeat a label set). An
// aggregator that does not answer is left out of this scrape and counted in `logger_scrape_errors`.
import { Hono } from "hono";
import { z } from "zod";
import type { AggregatorMetrics } from "../../objects/log-aggregator.js";
import { aggregator } from "./aggregators.js";
import { type AppEnv, parseQuery, requireKey } from "./context.js";
import { fanOutSettled, resolveTargets } from "./targets.js";
import { REGISTRY_NAME } from "../../objects/service-registry.js";

export const metricsRoutes = new Hono<AppEnv>();

metricsRoutes.get("/metrics", async (c) => {
  const principal = await requireKey(c, "read");
  parseQuery(c, z.object({}).strict()); // no parameters: a typo is 400, not a silent default
  const targets = await resolveTargets(c.env, principal, {});
  const all = await fanOutSettled(targets, (t) => aggregator(c.env, t.name).metrics());
  const errors = all.filter((m) => m === null).length;
  // Deployment-wide: entries refused because their service was new past NEW_SERVICES_PER_MINUTE.
  const refused = await c.env.SERVICE_REGISTRY.getByName(REGISTRY_NAME).refusedTotal();
  const text =
    renderMetrics(
      all.filter((m): m is AggregatorMetrics => m !== null),
      errors,
    ) +
    "# HELP logger_services_refused_total New services refused (NEW_SERVICES_PER_MINUTE per key).\n" +
    `# TYPE logger_services_refused_total counter\nlogger_services_refused_total ${refused}\n`;
  return c.body(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" });
});

type Labels = Record<string, string>;
interface Family {
  name: string;
  type: "counter" | "gauge";
  help: string;
  samples: { labels: Labels; value: number }[];
}

const LEVEL_LABELS = ["error", "warn", "info", "debug"] as const;

/** Label values escaped as the text format requires: backslash, double quote, newline. */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function sample(name: string, labels: Labels, value: number): string {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return `${name}${l.length > 0 ? `{${l.join(",")}}` : ""} ${Number.isFinite(value) ? value : 0}`;
}

/** Sums the shards of each domain/service (every number, nested ones included). */
export function sumByService(list: AggregatorMetrics[]): AggregatorMetrics[] {
  const add = (a: Record<string, unknown>, b: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(b)) {
      if (typeof v === "number") a[k] = ((a[k] as number) ?? 0) + v;
      else if (typeof v === "object" && v !== null)
        add((a[k] ??= {}) as Record<string, unknown>, v as Record<string, unknown>);
    }
  };
  const by = new Map<string, AggregatorMetrics>();
  for (const m of list) {
    const key = `${m.domain}\u0000${m.service}`;
    const acc = by.get(key);
    if (!acc) by.set(key, structuredClone(m));
    else add(acc as unknown as Record<string, unknown>, m as unknown as Record<string, unknown>);
  }
  return [...by.values()];
}

/** Renders the families; pure, so the format can be checked without a Worker. */
export function renderMetrics(list: AggregatorMetrics[], scrapeErrors = 0): string {
  const sorted = sumByService(list).sort(
    (a, b) => a.service.localeCompare(b.service) || a.domain.localeCompare(b.domain),
  );
  const fam = (
    name: string,
    type: Family["type"],
    help: string,
    per: (m: AggregatorMetrics, base: Labels) => Family["samples"],
  ): Family => ({
    name,
    type,
    help,
    samples: sorted.flatMap((m) => per(m, { service: m.service, domain: m.domain })),
  });
  const one = (pick: (m: AggregatorMetrics) => number) => (m: AggregatorMetrics, base: Labels) => [
    { labels: base, value: pick(m) },
  ];
  const families: Family[] = [
    fam(
      "logger_logs_received_total",
      "counter",
      "Log entries accepted and stored, by service, domain and level.",
      (m, base) => LEVEL_LABELS.map((level) => ({ labels: { ...base, level }, value: m.received[level] })),
    ),
    fam(
      "logger_logs_rejected_total",
      "counter",
      'Log entries refused by validation, by the level they claimed ("unknown" when none was valid).',
      (m, base) =>
        [...LEVEL_LABELS, "unknown" as const].map((level) => ({
          labels: { ...base, level },
          value: m.rejected[level],
        })),
    ),
    fam(
      "logger_logs_rejected_by_reason_total",
      "counter",
      "Log entries refused, by service, domain and reason (the field at fault, forbidden, otlp_record, loki_entry…); GET /api/admin/rejected lists the latest.",
      (m, base) =>
        Object.entries(m.rejected_by_reason ?? {})
          .filter(([, n]) => n > 0)
          .map(([reason, n]) => ({ labels: { ...base, reason }, value: n })),
    ),
    fam(
      "logger_logs_duplicate_total",
      "counter",
      "Resubmitted ids answered as duplicates (idempotent retries).",
      one((m) => m.duplicates),
    ),
    fam(
      "logger_sqlite_rows_written_total",
      "counter",
      "SQLite rows written by the aggregators (billed), since each instance started.",
      one((m) => m.rows_written_total ?? 0),
    ),
    fam(
      "logger_logs_rate_limited_total",
      "counter",
      "Log entries refused with 429 by the per-service ingest limit.",
      one((m) => m.rate_limited),
    ),
    fam(
      "logger_logs_flushed_total",
      "counter",
      "Log entries delivered to the data service or KV (successful flushes).",
      one((m) => m.flushed_total),
    ),
    fam(
      "logger_flush_failed_total",
      "counter",
      "Flush attempts that failed and were retried with backoff.",
      one((m) => m.flush_failed_total),
    ),
    fam(
      "logger_logs_dead_lettered_total",
      "counter",
      "Log entries the data service refused, moved to the dead-letter table.",
      one((m) => m.dead_lettered_total),
    ),
    fam(
      "logger_outbox_pending",
      "gauge",
      "Log entries stored but not yet flushed (outbox backlog).",
      one((m) => m.pending),
    ),
    fam(
      "logger_dead_letters",
      "gauge",
      "Log entries currently in the dead-letter table.",
      one((m) => m.dead_letters),
    ),
    fam(
      "logger_tail_subscribers",
      "gauge",
      "Live tail WebSocket subscribers.",
      one((m) => m.tail_subscribers),
    ),
    fam(
      "logger_tail_dropped_total",
      "counter",
      "Live tail frames dropped for slow subscribers.",
      one((m) => m.tail_dropped_total),
    ),
    fam(
      "logger_patterns",
      "gauge",
      "Message patterns held in memory.",
      one((m) => m.patterns),
    ),
    fam(
      "logger_patterns_evicted_total",
      "counter",
      "Patterns evicted by the per-aggregator cap.",
      one((m) => m.patterns_evicted_total),
    ),
  ];
  families.push(
    {
      name: "logger_services",
      type: "gauge",
      help: "Domain/service pairs in this scrape.",
      samples: [{ labels: {}, value: sorted.length }],
    },
    {
      name: "logger_aggregators",
      type: "gauge",
      help: "Aggregators (shards included) that answered this scrape.",
      samples: [{ labels: {}, value: list.length }],
    },
    {
      name: "logger_scrape_errors",
      type: "gauge",
      help: "Aggregators that did not answer this scrape.",
      samples: [{ labels: {}, value: scrapeErrors }],
    },
  );
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) lines.push(sample(f.name, s.labels, s.value));
  }
  return `${lines.join("\n")}\n`;
}
