// A live-tail client for the workers tests: connects through the Worker, records frames, waits.
import { expect } from "vitest";
import { call, KEYS } from "./helpers.js";

export type Frame = {
  type: string;
  logs?: { id: string; seq: number; level: string; service: string; domain: string }[];
  cursor?: string;
  count?: number;
  rate?: number;
  error?: { code: string };
};

export class TailClient {
  frames: Frame[] = [];
  closed = false;
  closeCode: number | undefined;
  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener("message", (e) => {
      if (typeof e.data === "string" && e.data !== "pong") this.frames.push(JSON.parse(e.data));
    });
    ws.addEventListener("close", (e) => {
      this.closed = true;
      this.closeCode = e.code;
    });
  }
  get ids(): string[] {
    return this.frames.flatMap((f) => (f.logs ?? []).map((l) => l.id));
  }
  get lastCursor(): string | undefined {
    return this.frames.filter((f) => f.cursor).at(-1)?.cursor;
  }
  get ready(): boolean {
    return this.frames.some((f) => f.type === "ready");
  }
  /**
   * Waits until `pred` holds (returns at once when it does) or `ms` pass; the caller's expect
   * then fails. The bound is wide because the pool's runtime is one thread shared with every
   * object's alarm work: a pattern push to the reference data service was seen to hold it 1.2-2.8 s.
   */
  async waitFor(pred: (c: TailClient) => boolean, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred(this) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  }
  close() {
    this.ws.close(1000, "done");
  }
}

/** Opens a tail and waits for its `ready` frame (the subscription is live from then on). */
export async function openTail(query: string, key: string = KEYS.read, useToken = false): Promise<TailClient> {
  const res = await call(`/api/tail?${query}${useToken ? `&token=${key}` : ""}`, {
    key: useToken ? undefined : key,
    headers: { upgrade: "websocket" },
  });
  expect(res.status).toBe(101);
  const t = new TailClient(res.webSocket!);
  await t.waitFor((c) => c.ready);
  expect(t.ready).toBe(true);
  return t;
}
