// The real OpenTelemetry JS SDK (LoggerProvider + SimpleLogRecordProcessor + the OTLP/HTTP JSON
// exporter) in Node, exporting to the logger under `wrangler dev` (started by the e2e harness);
// the records are then found through /api/logs/search with the mapped fields.
import { context, trace, TraceFlags } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, INGEST_KEY, READ_KEY, startDevServer, unique } from "./harness.js";

let server: DevServer | undefined;

beforeAll(async () => {
  server = await startDevServer();
}, 180_000);

afterAll(async () => {
  await server?.stop();
}, 30_000);

interface Log {
  id: string;
  level: string;
  message: string;
  service: string;
  timestamp: number;
  request_id?: string;
  user_id?: string;
  context?: { url?: string; method?: string; ip?: string };
  stack_trace?: string;
  metadata?: Record<string, any>;
}

describe("OpenTelemetry SDK → POST /v1/logs", () => {
  it("exports records that are then searchable with the mapped fields", async () => {
    const service = unique("otel");
    const exporter = new OTLPLogExporter({
      url: `${server!.url}/v1/logs`,
      headers: { Authorization: `Bearer ${INGEST_KEY}` },
    });
    // Record each export's result: a failed export must fail the test, not just log.
    const results: { code: number; error?: Error }[] = [];
    const exportOriginal = exporter.export.bind(exporter);
    exporter.export = (logs, done) =>
      exportOriginal(logs, (r) => {
        results.push(r);
        done(r);
      });
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({
        "service.name": service,
        "service.version": "1.4.2",
        "deployment.environment.name": "e2e",
      }),
      processors: [new SimpleLogRecordProcessor({ exporter })], // 0.223: options object, not the exporter
    });
    const logger = provider.getLogger("checkout", "2.0.0");

    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const spanId = "00f067aa0ba902b7";
    const spanContext = trace.setSpanContext(context.active(), { traceId, spanId, traceFlags: TraceFlags.SAMPLED });
    const before = Date.now();
    logger.emit({
      severityNumber: SeverityNumber.ERROR,
      severityText: "ERROR",
      body: "payment failed",
      context: spanContext,
      attributes: {
        "http.request.method": "POST",
        "url.full": "https://shop.example.com/pay",
        "client.address": "203.0.113.9",
        "http.response.status_code": 502,
        "user.id": "u-42",
        "exception.type": "TimeoutError",
        "exception.message": "upstream took 3000 ms",
        "exception.stacktrace": "TimeoutError: upstream took 3000 ms\n    at pay (pay.js:10:5)",
        "cart.items": 3,
        ratio: 0.25,
        tags: ["a", "b"],
      },
    });
    logger.emit({ severityNumber: SeverityNumber.WARN, severityText: "WARN", body: "slow upstream" });
    logger.emit({ severityNumber: SeverityNumber.DEBUG, body: { event: "cache_miss", key: "user:42" } });
    await provider.forceFlush();
    await provider.shutdown();
    expect(results.map((r) => [r.code, r.error?.message])).toEqual([
      [0, undefined],
      [0, undefined],
      [0, undefined],
    ]);

    const res = await fetch(`${server!.url}/api/logs/search?service=${service}&order=asc`, {
      headers: { authorization: `Bearer ${READ_KEY}` },
    });
    expect(res.status).toBe(200);
    const { logs } = (await res.json()) as { logs: Log[] };
    expect(logs.map((l) => [l.level, l.message])).toEqual([
      ["error", "payment failed"],
      ["warn", "slow upstream"],
      ["debug", '{"event":"cache_miss","key":"user:42"}'],
    ]);
    const [err] = logs;
    expect(err.id).toMatch(/^otlp_/);
    expect(err.timestamp).toBeGreaterThanOrEqual(before - 1000);
    expect(err.timestamp).toBeLessThanOrEqual(Date.now());
    expect(err.request_id).toBe(traceId);
    expect(err.user_id).toBe("u-42");
    // trace and span ids are first-class fields (issue 13), no longer only in metadata.otel
    expect((err as { trace_id?: string }).trace_id).toBe(traceId);
    expect((err as { span_id?: string }).span_id).toBe(spanId);
    expect(err.context).toEqual({ url: "https://shop.example.com/pay", method: "POST", ip: "203.0.113.9" });
    expect(err.stack_trace).toBe("TimeoutError: upstream took 3000 ms\n    at pay (pay.js:10:5)");
    expect(err.metadata).toMatchObject({
      "http.response.status_code": 502,
      "cart.items": 3,
      ratio: 0.25,
      tags: ["a", "b"],
      "exception.type": "TimeoutError",
      otel: {
        flags: 1,
        severity_number: SeverityNumber.ERROR,
        severity_text: "ERROR",
        scope: { name: "checkout", version: "2.0.0" },
        resource: { "service.version": "1.4.2", "deployment.environment.name": "e2e" },
      },
    });

    // The trace id is a request_id filter like any other.
    const byTrace = await fetch(`${server!.url}/api/logs/search?request_id=${traceId}&service=${service}`, {
      headers: { authorization: `Bearer ${READ_KEY}` },
    });
    expect(((await byTrace.json()) as { logs: Log[] }).logs.map((l) => l.message)).toEqual(["payment failed"]);
  });
});
