// Live tail over WebSockets: exact delivery with filters, resume with `since` (no gap, no
// duplicate), bounded queues for slow subscribers, fan-in across services, hibernation.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, ingest, KEYS, uniqueService } from "./helpers.js";

type Frame = {
  type: string;
  logs?: { id: string; seq: number; level: string; service: string }[];
  cursor?: string;
  count?: number;
  error?: { code: string };
};

class TailClient {
  frames: Frame[] = [];
  closed = false;
  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener("message", (e) => {
      if (typeof e.data === "string" && e.data !== "pong") this.frames.push(JSON.parse(e.data));
    });
    ws.addEventListener("close", () => (this.closed = true));
  }
  get ids(): string[] {
    return this.frames.flatMap((f) => (f.logs ?? []).map((l) => l.id));
  }
  get lastCursor(): string | undefined {
    return this.frames.filter((f) => f.cursor).at(-1)?.cursor;
  }
  async waitFor(pred: (c: TailClient) => boolean, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred(this) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  }
  close() {
    this.ws.close(1000, "done");
  }
}

async function tail(query: string, key: string = KEYS.read, useToken = false): Promise<TailClient> {
  const res = await call(`/api/tail?${query}${useToken ? `&token=${key}` : ""}`, {
    key: useToken ? undefined : key,
    headers: { upgrade: "websocket" },
  });
  expect(res.status).toBe(101);
  return new TailClient(res.webSocket!);
}

const logsOf = (service: string, prefix: string, levels: string[]) =>
  levels.map((level, i) => ({ id: `${prefix}-${i}`, level, message: `${level} ${i}`, service }));

describe("GET /api/tail", () => {
  it("sends exactly the matching entries ingested after subscribing, in order", async () => {
    const service = uniqueService("tail");
    await ingest(logsOf(service, "before", ["error", "info"]));
    const t = await tail(`service=${service}&level=error`, KEYS.read, true);
    const levels = ["error", "info", "error", "warn", "debug", "error", "error", "info"];
    await ingest(logsOf(service, "a", levels));
    await ingest(logsOf(service, "b", ["info", "error"]));
    await ingest([{ id: "other-svc", level: "error", message: "x", service: uniqueService("other") }]);
    const expected = ["a-0", "a-2", "a-5", "a-6", "b-1"];
    await t.waitFor((c) => c.ids.length >= expected.length);
    await new Promise((r) => setTimeout(r, 200)); // nothing more may arrive
    expect(t.ids).toEqual(expected);
    const seqs = t.frames.flatMap((f) => f.logs ?? []).map((l) => l.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    t.close();
  });

  it("resumes with since=<seq> or since=<cursor> with no gap and no duplicate", async () => {
    const service = uniqueService("resume");
    const t1 = await tail(`service=${service}`);
    await ingest(logsOf(service, "r1", ["info", "info", "info"]));
    await t1.waitFor((c) => c.ids.length === 3);
    const cursor = t1.lastCursor!;
    const lastSeq = t1.frames.flatMap((f) => f.logs ?? []).at(-1)!.seq;
    t1.close();
    // missed while disconnected
    await ingest(logsOf(service, "r2", ["warn", "error", "info", "debug"]));

    const bySeq = await tail(`service=${service}&since=${lastSeq}`);
    const byCursor = await tail(`service=${service}&since=${encodeURIComponent(cursor)}`);
    await ingest(logsOf(service, "r3", ["error"]));
    const expected = ["r2-0", "r2-1", "r2-2", "r2-3", "r3-0"];
    for (const t of [bySeq, byCursor]) {
      await t.waitFor((c) => c.ids.length >= expected.length);
      expect(t.ids).toEqual(expected);
      t.close();
    }
  });

  it("fans in from several services with one merged cursor", async () => {
    const a = uniqueService("fan-a");
    const b = uniqueService("fan-b");
    await ingest([...logsOf(a, "fa0", ["info"]), ...logsOf(b, "fb0", ["info"])]);
    const t = await tail(`service=${a},${b}&level=error,warn`);
    await ingest([...logsOf(a, "fa", ["error", "info"]), ...logsOf(b, "fb", ["warn", "debug"])]);
    await t.waitFor((c) => c.ids.length >= 2);
    expect(t.ids.sort()).toEqual(["fa-0", "fb-0"]);
    const cursor = t.lastCursor!;
    t.close();
    await ingest([...logsOf(a, "fa2", ["error"]), ...logsOf(b, "fb2", ["error"])]);
    const resumed = await tail(`service=${a},${b}&level=error,warn&since=${encodeURIComponent(cursor)}`);
    await resumed.waitFor((c) => c.ids.length >= 2);
    await new Promise((r) => setTimeout(r, 150));
    expect(resumed.ids.sort()).toEqual(["fa2-0", "fb2-0"]);
    resumed.close();
  });

  it("tells a slow subscriber what it dropped, and keeps its queue bounded", async () => {
    const service = uniqueService("slow");
    const t = await tail(`service=${service}`);
    // TAIL_QUEUE_MAX is 100 in this project: 1000 entries in one tick overflow the queue
    await ingest(Array.from({ length: 1000 }, (_, i) => ({ id: `sl-${i}`, level: "info", message: "m", service })));
    await t.waitFor((c) => c.frames.some((f) => f.type === "dropped") && c.ids.length > 0);
    await new Promise((r) => setTimeout(r, 300));
    const dropped = t.frames.filter((f) => f.type === "dropped").reduce((a, f) => a + f.count!, 0);
    expect(t.ids).toEqual(Array.from({ length: 100 }, (_, i) => `sl-${i}`));
    expect(dropped).toBe(900);
    // the dropped entries are still stored: resuming from the last cursor fetches them
    const resumed = await tail(`service=${service}&since=${encodeURIComponent(t.lastCursor!)}`);
    await resumed.waitFor((c) => c.ids.length >= 900);
    expect(resumed.ids).toEqual(Array.from({ length: 900 }, (_, i) => `sl-${i + 100}`));
    resumed.close();
    t.close();
  });

  it("keeps serving a subscriber after the Durable Object hibernates", { timeout: 60_000 }, async () => {
    const service = uniqueService("hibernate");
    const stub = env.LOG_AGGREGATOR.getByName(`default/${service}`);
    const t = await tail(`service=${service}&level=error`);
    await runInDurableObject(stub, (o) => ((o as unknown as { marker: number }).marker = 1));
    // local workerd hibernates an idle object after about 10-20 s
    await new Promise((r) => setTimeout(r, 25_000));
    const marker = await runInDurableObject(stub, (o) => (o as unknown as { marker?: number }).marker);
    expect(marker).toBeUndefined(); // a new instance: memory was dropped
    await ingest(logsOf(service, "h", ["info", "error"]));
    await t.waitFor((c) => c.ids.length >= 1);
    expect(t.ids).toEqual(["h-1"]);
    t.close();
  });
});
