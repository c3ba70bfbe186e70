// The aggregator's publisher to the tail hub (objects/tail-publisher.ts), against a fake hub and
// clock: quiet while nobody listens, no gap across the quiet time, one call in flight, in order.
import { describe, expect, it } from "vitest";
import { PUBLISH_QUIET_MS, TailPublisher } from "../../objects/tail-publisher.js";
import type { StoredLogEntry } from "../../src/schema/log-entry.js";

const entry = (seq: number): StoredLogEntry =>
  ({
    id: `e${seq}`,
    seq,
    level: "info",
    message: `m${seq}`,
    service: "api",
    domain: "default",
    timestamp: 1,
    received_at: 1,
  }) as StoredLogEntry;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i));

function setup() {
  const stored: StoredLogEntry[] = [];
  const calls: { seqs: number[]; dropped: number }[] = [];
  const hub = {
    listening: false,
    fail: false,
    quietMs: undefined as number | undefined,
    gate: undefined as Promise<void> | undefined,
  };
  let now = 0;
  const pub = new TailPublisher(
    () => ({
      async publish(_source: string, entries: StoredLogEntry[], dropped: number) {
        calls.push({ seqs: entries.map((e) => e.seq!), dropped });
        if (hub.gate) await hub.gate;
        if (hub.fail) throw new Error("hub down");
        return { listening: hub.listening, ...(hub.quietMs !== undefined ? { quietMs: hub.quietMs } : {}) };
      },
    }),
    () => "default/api",
    (after, limit) => stored.filter((e) => e.seq! > after).slice(0, limit),
    () => now,
  );
  const ingest = async (from: number, to: number) => {
    const fresh = range(from, to);
    stored.push(...fresh);
    pub.publish(fresh);
    await new Promise((r) => setTimeout(r, 0));
  };
  return { pub, calls, hub, ingest, advance: (ms: number) => (now += ms) };
}

describe("TailPublisher", () => {
  it("asks once, then stays quiet for a second while nobody listens", async () => {
    const { calls, ingest, advance } = setup();
    await ingest(1, 2);
    await ingest(3, 3);
    advance(PUBLISH_QUIET_MS - 1);
    await ingest(4, 4);
    expect(calls).toEqual([{ seqs: [1, 2], dropped: 0 }]);
  });

  it("stays quiet as long as the hub asks when many aggregators ask", async () => {
    const { calls, hub, ingest, advance } = setup();
    hub.quietMs = 5000;
    await ingest(1, 1);
    advance(4999);
    await ingest(2, 2);
    expect(calls.map((c) => c.seqs)).toEqual([[1]]);
    advance(1);
    await ingest(3, 3);
    expect(calls.map((c) => c.seqs)).toEqual([[1], [2, 3]]);
  });

  it("sends what was stored during the quiet time ahead of the fresh entries once someone listens", async () => {
    const { calls, hub, ingest, advance } = setup();
    await ingest(1, 2);
    await ingest(3, 5); // quiet: not offered
    hub.listening = true;
    advance(PUBLISH_QUIET_MS);
    await ingest(6, 7);
    await ingest(8, 8);
    expect(calls.map((c) => c.seqs)).toEqual([[1, 2], [3, 4, 5, 6, 7], [8]]);
  });

  it("keeps one call in flight and sends what queued meanwhile in the next, in order", async () => {
    const { calls, hub, ingest } = setup();
    hub.listening = true;
    let open!: () => void;
    hub.gate = new Promise<void>((r) => (open = r));
    await ingest(1, 1);
    await ingest(2, 3);
    await ingest(4, 4);
    expect(calls.map((c) => c.seqs)).toEqual([[1]]);
    hub.gate = undefined;
    open();
    await new Promise((r) => setTimeout(r, 0));
    expect(calls.map((c) => c.seqs)).toEqual([[1], [2, 3, 4]]);
  });

  it("resends from the failed batch after the hub was unreachable", async () => {
    const { calls, hub, ingest, advance } = setup();
    hub.listening = true;
    await ingest(1, 1);
    hub.fail = true;
    await ingest(2, 3);
    await ingest(4, 4); // quiet after the failure
    hub.fail = false;
    advance(PUBLISH_QUIET_MS);
    await ingest(5, 5);
    expect(calls.map((c) => c.seqs)).toEqual([[1], [2, 3], [2, 3, 4, 5]]);
  });
});
