// The client SDK inside workerd, talking to the logger through a Fetcher (what a service binding
// is): batches by size, flush() resolves once everything is stored, ids are the client's.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LoggerClient } from "../../src/client/index.js";
import { getJson, KEYS, uniqueService } from "./helpers.js";

describe("LoggerClient in a Worker", () => {
  it("delivers every entry through a service binding, in batches, with its own ids", async () => {
    const service = uniqueService("sdk");
    const logger = (exports as unknown as { default: Fetcher }).default;
    const client = new LoggerClient({ fetcher: logger, apiKey: KEYS.ingest, service, maxBatch: 4, flushIntervalMs: 0 });
    const ids = Array.from({ length: 10 }, (_, i) =>
      client.info(`line ${i}`, { request_id: "req-1", metadata: { i } }),
    );
    ids.push(client.error("failed", new Error("boom")));
    await client.close();
    expect(client.stats()).toMatchObject({ sent: 11, rejected: 0, dropped: 0, buffered: 0 });

    const { body } = await getJson<{ logs: { id: string; level: string; message: string; stack_trace?: string }[] }>(
      `/api/logs/search?service=${service}&order=asc`,
    );
    expect(body.logs.map((l) => l.id).sort()).toEqual([...ids].sort());
    expect(body.logs.find((l) => l.level === "error")?.stack_trace).toContain("Error: boom");
  });
});
