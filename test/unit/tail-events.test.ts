// TraceItem[] → log entries. The items have the shape the runtime delivers (PLATFORM.md, and
// what test/workers/tail-consumer.test.ts receives from a real producer Worker): scriptName null
// locally, console arguments raw in `message`, exceptions with a stack.
import { describe, expect, it } from "vitest";
import {
  consoleLevel,
  MAX_TAIL_ENTRIES,
  outcomeLevel,
  type TailItem,
  traceItemsToEntries,
} from "../../src/core/tail-events.js";
import { validateEntries } from "../../src/schema/ingest.js";

const NOW = 1_790_000_000_000;

function fetchItem(over: Partial<TailItem> = {}): TailItem {
  return {
    scriptName: null,
    outcome: "exception",
    eventTimestamp: NOW - 50,
    event: {
      request: {
        url: "http://producer.test/checkout?cart=9",
        method: "POST",
        headers: { "cf-connecting-ip": "198.51.100.4", "cf-ray": "8a1b2c3d4e5f6789-AMS" },
      },
      response: undefined,
    },
    logs: [
      { level: "log", message: ["checkout started", { cart: 9 }], timestamp: NOW - 49 },
      { level: "error", message: ["payment declined"], timestamp: NOW - 48 },
    ],
    exceptions: [
      {
        name: "Error",
        message: "card service down",
        stack: "Error: card service down\n    at Object.fetch (producer-worker.js:9:11)",
        timestamp: NOW - 47,
      },
    ],
    truncated: false,
    cpuTime: 2,
    wallTime: 5,
    ...over,
  };
}

// Captured verbatim from the local runtime (workerd via vitest-pool-workers) delivering
// test/fixtures/producer-worker.js's events to tail(): JSON.stringify(events).
const CAPTURED: TailItem[] = [
  JSON.parse(
    '{"wallTime":0,"cpuTime":0,"truncated":false,"executionModel":"stateless","outcome":"exception","scriptName":null,"diagnosticsChannelEvents":[],"exceptions":[{"stack":"    at Object.fetch (file:///work/main/test/fixtures/producer-worker.js:12:13)","name":"Error","message":"producer exploded 5ppccl","timestamp":1795907159756}],"logs":[{"message":["producer handling","/boom",{"tag":"5ppccl"}],"level":"log","timestamp":1795907159753},{"message":["about to fail 5ppccl"],"level":"error","timestamp":1795907159756}],"eventTimestamp":1795907159753,"event":{"request":{"url":"http://tail-5ppccl.producer.test/boom?tag=5ppccl","method":"GET","headers":{}}}}',
  ),
  JSON.parse(
    '{"wallTime":0,"cpuTime":0,"truncated":false,"executionModel":"stateless","outcome":"ok","scriptName":null,"diagnosticsChannelEvents":[],"exceptions":[],"logs":[{"message":["producer handling","/ok",{"tag":"5ppccl"}],"level":"log","timestamp":1795907159758},{"message":["{\\"level\\":\\"warn\\",\\"message\\":\\"slow path 5ppccl\\",\\"ms\\":1200}"],"level":"warn","timestamp":1795907159758}],"eventTimestamp":1795907159757,"event":{"request":{"url":"http://tail-5ppccl.producer.test/ok?tag=5ppccl","method":"POST","headers":{"content-type":"text/plain;charset=UTF-8"}},"response":{"status":200}}}',
  ),
];

describe("traceItemsToEntries", () => {
  it("maps the events the local runtime really delivers", () => {
    const { entries } = traceItemsToEntries(CAPTURED, NOW);
    const host = "tail-5ppccl.producer.test";
    expect(entries.map((e) => [e.service, e.level, e.message, e.timestamp])).toEqual([
      [host, "info", 'producer handling /boom {"tag":"5ppccl"}', 1795907159753],
      [host, "error", "about to fail 5ppccl", 1795907159756],
      [host, "error", "Error: producer exploded 5ppccl", 1795907159756],
      [host, "error", `GET http://${host}/boom?tag=5ppccl (exception)`, 1795907159753],
      [host, "info", 'producer handling /ok {"tag":"5ppccl"}', 1795907159758],
      [host, "warn", "slow path 5ppccl", 1795907159758],
      [host, "info", `POST http://${host}/ok?tag=5ppccl → 200`, 1795907159757],
    ]);
    expect(entries[2].stack_trace).toBe(
      "Error: producer exploded 5ppccl\n    at Object.fetch (file:///work/main/test/fixtures/producer-worker.js:12:13)",
    );
    expect(entries[5].metadata).toEqual({ ms: 1200, tail: { outcome: "ok", event: "fetch", console: "warn" } });
    expect(entries[6].context).toEqual({ url: `http://${host}/ok?tag=5ppccl`, method: "POST" });
    // received just after the captured events (their timestamps are later than NOW)
    expect(validateEntries(entries, 1_795_907_160_000, () => "id").rejected).toEqual([]);
  });

  it("turns console calls, an uncaught exception and the outcome into entries with the request context", () => {
    const { entries, dropped } = traceItemsToEntries([fetchItem()], NOW);
    expect(dropped).toBe(0);
    const context = { url: "http://producer.test/checkout?cart=9", method: "POST", ip: "198.51.100.4" };
    expect(entries).toEqual([
      {
        level: "info",
        message: 'checkout started {"cart":9}',
        service: "producer.test",
        timestamp: NOW - 49,
        context,
        request_id: "8a1b2c3d4e5f6789-AMS",
        metadata: { tail: { outcome: "exception", event: "fetch", console: "log" } },
      },
      {
        level: "error",
        message: "payment declined",
        service: "producer.test",
        timestamp: NOW - 48,
        context,
        request_id: "8a1b2c3d4e5f6789-AMS",
        metadata: { tail: { outcome: "exception", event: "fetch", console: "error" } },
      },
      {
        level: "error",
        message: "Error: card service down",
        service: "producer.test",
        timestamp: NOW - 47,
        context,
        request_id: "8a1b2c3d4e5f6789-AMS",
        stack_trace: "Error: card service down\n    at Object.fetch (producer-worker.js:9:11)",
        metadata: { tail: { outcome: "exception", event: "fetch" }, exception: "Error" },
      },
      {
        level: "error",
        message: "POST http://producer.test/checkout?cart=9 (exception)",
        service: "producer.test",
        timestamp: NOW - 50,
        context,
        request_id: "8a1b2c3d4e5f6789-AMS",
        metadata: { tail: { outcome: "exception", event: "fetch" }, cpu_time_ms: 2, wall_time_ms: 5 },
      },
    ]);
    // every entry passes the ingest validator
    expect(validateEntries(entries, NOW, () => "id").rejected).toEqual([]);
  });

  it("names the service after scriptName when the runtime sets it, keeping namespace and entrypoint in metadata", () => {
    const { entries } = traceItemsToEntries(
      [
        fetchItem({
          scriptName: "shop-api",
          dispatchNamespace: "customers",
          entrypoint: "default",
          scriptVersion: { id: "v-123" },
          outcome: "ok",
          logs: [],
          exceptions: [],
          event: {
            request: { url: "https://shop.example.com/", method: "GET", headers: {} },
            response: { status: 200 },
          },
        }),
      ],
      NOW,
    );
    expect(entries).toEqual([
      {
        level: "info",
        message: "GET https://shop.example.com/ → 200",
        service: "shop-api",
        timestamp: NOW - 50,
        context: { url: "https://shop.example.com/", method: "GET" },
        metadata: {
          tail: {
            outcome: "ok",
            event: "fetch",
            entrypoint: "default",
            dispatch_namespace: "customers",
            script_version: "v-123",
          },
          status: 200,
          cpu_time_ms: 2,
          wall_time_ms: 5,
        },
      },
    ]);
  });

  it("falls back to tail-unknown without scriptName or request, and describes scheduled/queue events", () => {
    const base = { scriptName: null, outcome: "ok", eventTimestamp: NOW, logs: [], exceptions: [] };
    const { entries } = traceItemsToEntries(
      [
        { ...base, event: { cron: "*/5 * * * *", scheduledTime: NOW } },
        { ...base, event: { queue: "jobs", batchSize: 3 }, outcome: "exceededCpu" },
        { ...base, event: null },
      ],
      NOW,
    );
    expect(entries.map((e) => [e.service, e.level, e.message])).toEqual([
      ["tail-unknown", "info", 'scheduled "*/5 * * * *"'],
      ["tail-unknown", "error", "queue jobs (3 messages) (exceededCpu)"],
      ["tail-unknown", "info", "invocation"],
    ]);
  });

  it("maps console levels and outcomes", () => {
    expect(["log", "info", "debug", "trace", "warn", "error", "table"].map(consoleLevel)).toEqual([
      "info",
      "info",
      "debug",
      "debug",
      "warn",
      "error",
      "info",
    ]);
    expect(outcomeLevel("ok", 200)).toBe("info");
    expect(outcomeLevel("ok", 404)).toBe("warn");
    expect(outcomeLevel("ok", 503)).toBe("error");
    expect(outcomeLevel("canceled", undefined)).toBe("warn");
    expect(outcomeLevel("exceededMemory", undefined)).toBe("error");
  });

  it("reads structured console logs: message/msg, level and fields (also as a JSON string)", () => {
    const { entries } = traceItemsToEntries(
      [
        fetchItem({
          exceptions: [],
          logs: [
            { level: "log", message: [{ level: "warn", message: "slow upstream", ms: 1200 }], timestamp: NOW },
            {
              level: "log",
              message: [JSON.stringify({ msg: "cache miss", key: "k1", level: "debug" })],
              timestamp: NOW,
            },
            { level: "info", message: [{ noMessage: true }], timestamp: NOW },
          ],
        }),
      ],
      NOW,
    );
    expect(entries.slice(0, 3).map((e) => [e.level, e.message, e.metadata])).toEqual([
      ["warn", "slow upstream", { ms: 1200, tail: { outcome: "exception", event: "fetch", console: "log" } }],
      ["debug", "cache miss", { key: "k1", tail: { outcome: "exception", event: "fetch", console: "log" } }],
      ["info", '{"noMessage":true}', { tail: { outcome: "exception", event: "fetch", console: "info" } }],
    ]);
  });

  it("folds fields that metadata cannot hold into the message instead of losing the entry", () => {
    const big = { message: "huge", blob: "x".repeat(20_000) };
    const { entries } = traceItemsToEntries(
      [fetchItem({ exceptions: [], logs: [{ level: "log", message: [big], timestamp: NOW }] })],
      NOW,
    );
    expect(entries[0].message).toBe(JSON.stringify(big));
    expect(entries[0].metadata).toEqual({ tail: { outcome: "exception", event: "fetch", console: "log" } });
    expect(validateEntries(entries, NOW, () => "id").rejected).toEqual([]);
  });

  it("skips empty console calls, uses now for missing timestamps, and caps the entries per call", () => {
    const r = traceItemsToEntries(
      [fetchItem({ eventTimestamp: null, exceptions: [], logs: [{ level: "log", message: [""], timestamp: 0 }] })],
      NOW,
    );
    expect(r.skipped).toBe(1);
    expect(r.entries.map((e) => e.timestamp)).toEqual([NOW]);

    const many = Array.from({ length: MAX_TAIL_ENTRIES + 10 }, (_, i) => ({
      level: "log",
      message: [`line ${i}`],
      timestamp: NOW,
    }));
    const capped = traceItemsToEntries([fetchItem({ exceptions: [], logs: many })], NOW);
    expect(capped.entries).toHaveLength(MAX_TAIL_ENTRIES);
    expect(capped.dropped).toBe(11); // 10 console lines + the outcome entry
  });

  it("cuts long URLs and stacks to the entry limits", () => {
    const url = `https://x.test/${"a".repeat(5000)}`;
    const { entries } = traceItemsToEntries(
      [
        fetchItem({
          logs: [],
          event: { request: { url, method: "GET", headers: {} } },
          exceptions: [{ name: "Error", message: "m", stack: "s".repeat(70_000), timestamp: NOW }],
        }),
      ],
      NOW,
    );
    expect((entries[0].context as { url: string }).url).toHaveLength(2048);
    expect((entries[0].stack_trace as string).length).toBe(64 * 1024);
    expect(validateEntries(entries, NOW, () => "id").rejected).toEqual([]);
  });
});
