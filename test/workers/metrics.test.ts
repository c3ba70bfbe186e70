// GET /metrics: known numbers ingested, the text parsed by a real Prometheus text-format parser
// (parse-prometheus-text-format, prom2json-compatible), exact values by service and level.
import parsePrometheusTextFormat, { type PromFamily } from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import type { AggregatorMetrics } from "../../objects/log-aggregator.js";
import { renderMetrics } from "../../src/http/metrics.js";
import { call, ingest, KEYS, uniqueService } from "./helpers.js";

async function scrape(key: string = KEYS.read): Promise<{ families: PromFamily[]; contentType: string | null }> {
  const res = await call("/metrics", { key });
  expect(res.status).toBe(200);
  return { families: parsePrometheusTextFormat(await res.text()), contentType: res.headers.get("content-type") };
}

function value(families: PromFamily[], name: string, labels: Record<string, string>): number | undefined {
  const fam = families.find((f) => f.name === name);
  const m = fam?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m?.value === undefined ? undefined : Number(m.value);
}

describe("GET /metrics", () => {
  it("reports exact received and rejected totals by service and level", async () => {
    const service = uniqueService("metrics");
    const other = uniqueService("metrics-other");
    const now = Date.now();
    const { status } = await ingest([
      ...Array.from({ length: 3 }, (_, i) => ({ level: "error", message: `e${i}`, service, timestamp: now })),
      ...Array.from({ length: 2 }, (_, i) => ({ level: "info", message: `i${i}`, service, timestamp: now })),
      { level: "WARNING", message: "w", service, timestamp: now },
      { level: "debug", message: "d", service: other, timestamp: now },
      { level: "error", message: "", service }, // rejected: empty message, claimed error
      { level: ["loud"], message: "x", service }, // rejected: no valid level → unknown
      { level: "warn", message: "x", service, timestamp: 1_700_000_000 }, // rejected: seconds
    ]);
    expect(status).toBe(202);
    // the same id again: a duplicate, not a second receipt
    await ingest([{ id: "metrics-dup", level: "info", message: "once", service: other }]);
    await ingest([{ id: "metrics-dup", level: "info", message: "once", service: other }]);

    const { families, contentType } = await scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const labels = { service, domain: "default" };
    expect(
      ["error", "warn", "info", "debug"].map((level) =>
        value(families, "logger_logs_received_total", { ...labels, level }),
      ),
    ).toEqual([3, 1, 2, 0]);
    expect(
      ["error", "warn", "info", "debug", "unknown"].map((level) =>
        value(families, "logger_logs_rejected_total", { ...labels, level }),
      ),
    ).toEqual([1, 1, 0, 0, 1]);
    expect(
      ["message", "level", "timestamp"].map((reason) =>
        value(families, "logger_logs_rejected_by_reason_total", { ...labels, reason }),
      ),
    ).toEqual([1, 1, 1]);
    expect(value(families, "logger_logs_received_total", { service: other, domain: "default", level: "debug" })).toBe(
      1,
    );
    expect(value(families, "logger_logs_received_total", { service: other, domain: "default", level: "info" })).toBe(1);
    expect(value(families, "logger_logs_duplicate_total", { service: other, domain: "default" })).toBe(1);

    // the outbox: 6 stored, none flushed yet (the flush interval is 30 s)
    expect(value(families, "logger_outbox_pending", labels)).toBe(6);
    expect(value(families, "logger_logs_flushed_total", labels)).toBe(0);
    expect(value(families, "logger_flush_failed_total", labels)).toBe(0);
    expect(value(families, "logger_dead_letters", labels)).toBe(0);
    expect(value(families, "logger_tail_subscribers", labels)).toBe(0);

    const types = Object.fromEntries(families.map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      logger_logs_received_total: "COUNTER",
      logger_logs_rejected_total: "COUNTER",
      logger_logs_flushed_total: "COUNTER",
      logger_flush_failed_total: "COUNTER",
      logger_outbox_pending: "GAUGE",
      logger_tail_subscribers: "GAUGE",
    });
    expect(value(families, "logger_scrape_errors", {})).toBe(0);
  });

  it("counts a flush: pending goes to flushed", async () => {
    const service = uniqueService("metrics-flush");
    await ingest([
      { level: "info", message: "to flush", service },
      { level: "error", message: "to flush too", service },
    ]);
    const flush = await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin });
    expect(flush.status).toBe(200);
    const { families } = await scrape();
    const labels = { service, domain: "default" };
    expect(value(families, "logger_logs_flushed_total", labels)).toBe(2);
    expect(value(families, "logger_outbox_pending", labels)).toBe(0);
  });

  it("shows a service-limited key only its services, and needs a read key", async () => {
    const service = uniqueService("metrics-hidden");
    await ingest([{ level: "info", message: "x", service }]);
    await ingest([{ level: "info", message: "x", service: "api" }]);
    const { families } = await scrape(KEYS.apiOnly);
    const services = new Set(families.flatMap((f) => f.metrics.map((m) => m.labels?.service)).filter(Boolean));
    expect([...services]).toEqual(["api"]);

    expect((await call("/metrics")).status).toBe(401);
    expect((await call("/metrics", { key: KEYS.ingest })).status).toBe(403);
  });

  it("sums the shards of a service into one series, and escapes label values", () => {
    const shard = (service: string, domain: string, error: number, pending: number): AggregatorMetrics => ({
      service,
      domain,
      received: { error, warn: 0, info: 1, debug: 0 },
      rejected: { error: 0, warn: 0, info: 0, debug: 0, unknown: 1 },
      duplicates: 0,
      rate_limited: 2,
      flushed_total: 5,
      flush_failed_total: 1,
      dead_lettered_total: 0,
      pending,
      dead_letters: 0,
      tail_subscribers: 1,
      tail_dropped_total: 0,
      patterns: 3,
      patterns_evicted_total: 0,
    });
    const text = renderMetrics(
      [shard("hot", "default", 2, 10), shard("hot", "default", 3, 5), shard('we"ird', "default", 1, 0)],
      1,
    );
    const families = parsePrometheusTextFormat(text);
    const received = families.find((f) => f.name === "logger_logs_received_total")!;
    expect(
      received.metrics.filter((m) => m.labels?.service === "hot" && m.labels.level === "error").map((m) => m.value),
    ).toEqual(["5"]);
    expect(value(families, "logger_outbox_pending", { service: "hot" })).toBe(15);
    expect(value(families, "logger_logs_rate_limited_total", { service: "hot" })).toBe(4);
    expect(value(families, "logger_logs_received_total", { service: 'we"ird', level: "error" })).toBe(1);
    expect(value(families, "logger_services", {})).toBe(2);
    expect(value(families, "logger_aggregators", {})).toBe(3);
    expect(value(families, "logger_scrape_errors", {})).toBe(1);
  });
});
