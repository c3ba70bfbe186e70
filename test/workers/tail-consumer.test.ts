// Tail Workers: a real producer Worker (test/fixtures/producer-worker.js, an auxiliary worker
// whose `tails` names this test runner) handles requests; the runtime delivers its TraceItems to
// the logger's exported tail(), and the console lines, the uncaught exception and the outcomes
// become searchable logs. Locally scriptName is null, so the service is the request's host.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getJson } from "./helpers.js";

const producer = (env as unknown as { TAIL_PRODUCER: Fetcher }).TAIL_PRODUCER;

interface Log {
  level: string;
  message: string;
  service: string;
  context?: { url?: string; method?: string };
  stack_trace?: string;
  metadata?: Record<string, unknown>;
}

async function waitForLogs(service: string, count: number, timeoutMs = 10_000): Promise<Log[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await getJson<{ logs: Log[] }>(`/api/logs/search?service=${service}&order=asc&limit=100`);
    expect(status).toBe(200);
    if (body.logs.length >= count || Date.now() > deadline) return body.logs;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("tail() consumer", () => {
  it("ingests a producer's console output, its uncaught exception and its request outcomes", async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const host = `tail-${tag}.producer.test`;
    // Over a service binding the producer's uncaught exception surfaces in the caller too.
    await expect(producer.fetch(`http://${host}/boom?tag=${tag}`)).rejects.toThrow(`producer exploded ${tag}`);
    const ok = await producer.fetch(`http://${host}/ok?tag=${tag}`, { method: "POST", body: "x" });
    expect(await ok.text()).toBe(`ok ${tag}`);

    // boom: log + error + exception + outcome; ok: log + warn + outcome
    const logs = await waitForLogs(host, 7);
    const brief = logs.map((l) => [l.level, l.message]);
    expect(brief).toEqual(
      expect.arrayContaining([
        ["info", `producer handling /boom {"tag":"${tag}"}`],
        ["error", `about to fail ${tag}`],
        ["error", `Error: producer exploded ${tag}`],
        ["error", `GET http://${host}/boom?tag=${tag} (exception)`],
        ["info", `producer handling /ok {"tag":"${tag}"}`],
        ["warn", `slow path ${tag}`],
        ["info", `POST http://${host}/ok?tag=${tag} → 200`],
      ]),
    );
    expect(logs).toHaveLength(7);
    for (const l of logs) expect(l.service).toBe(host);

    const exception = logs.find((l) => l.message === `Error: producer exploded ${tag}`)!;
    expect(exception.stack_trace).toContain(`producer exploded ${tag}`);
    expect(exception.context).toEqual({ url: `http://${host}/boom?tag=${tag}`, method: "GET" });
    const warn = logs.find((l) => l.level === "warn")!;
    expect(warn.metadata).toMatchObject({ ms: 1200, tail: { outcome: "ok", event: "fetch", console: "warn" } });
    expect(warn.context).toEqual({ url: `http://${host}/ok?tag=${tag}`, method: "POST" });
  });
});
