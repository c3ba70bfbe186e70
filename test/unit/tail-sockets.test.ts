// Issue 16 item 5: a tail subscriber that never reads must not make the aggregator buffer without
// limit. objects/tail-sockets.ts against fake sockets that count what `send` was handed.
import { describe, expect, it } from "vitest";
import { TailSockets } from "../../objects/tail-sockets.js";
import type { StoredLogEntry } from "../../src/schema/log-entry.js";

class FakeSocket {
  bytes = 0;
  logs = 0;
  dropped = 0;
  constructor(private attachment: unknown) {}
  deserializeAttachment() {
    return this.attachment;
  }
  serializeAttachment(a: unknown) {
    this.attachment = a;
  }
  send(frame: string) {
    this.bytes += frame.length;
    const f = JSON.parse(frame) as { type: string; logs?: unknown[]; count?: number };
    if (f.type === "logs") this.logs += f.logs!.length;
    if (f.type === "dropped") this.dropped += f.count!;
  }
}

const message = "x".repeat(1000);
const entries = (from: number, n: number): StoredLogEntry[] =>
  Array.from(
    { length: n },
    (_, i) =>
      ({
        id: `e${from + i}`,
        seq: from + i,
        level: "info",
        message,
        service: "api",
        domain: "default",
        timestamp: 1,
        received_at: 1,
      }) as StoredLogEntry,
  );

describe("TailSockets byte budget", () => {
  it("sends a subscriber that never reads at most its budget, and reports every other log as dropped", () => {
    const sockets = [0, 1, 2].map(() => new FakeSocket({ filter: {}, lastSeq: 0 }));
    let now = 0;
    const ctx = { getWebSockets: () => sockets } as unknown as DurableObjectState;
    const bytesPerSecond = 200_000;
    const tails = new TailSockets(
      ctx,
      () => "default/api",
      5000,
      bytesPerSecond,
      () => now,
    );
    // 90,000 logs of ~1 KB in 100 ms ticks over 9 s: ~10 MB/s offered to each subscriber
    let seq = 1;
    for (let tick = 0; tick < 90; tick++) {
      tails.publish(entries(seq, 1000));
      seq += 1000;
      tails.flush();
      now += 100;
    }
    now += 60_000; // later, one more log: carried drop counts go out with it
    tails.publish(entries(seq, 1));
    tails.flush();
    for (const ws of sockets) {
      // burst (2 s worth) + 9 s at the rate; the drop reports spend 64 B each from the same budget
      expect(ws.bytes).toBeLessThanOrEqual(2 * bytesPerSecond + 9 * bytesPerSecond + 64 * 91 + 2000);
      expect(ws.logs).toBeGreaterThan(0);
      expect(ws.logs + ws.dropped).toBe(90_001);
    }
    expect(tails.droppedTotal).toBe(3 * 90_001 - sockets.reduce((a, ws) => a + ws.logs, 0));
  });
});
