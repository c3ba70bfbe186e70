// Rate limits (tight in this project: 500 logs/s per service, 60 requests per 10 s per key):
// 429 with Retry-After, per service without touching other services, per key without
// touching other keys.
import { describe, expect, it } from "vitest";
import { call, getJson, ingest, KEYS, uniqueService } from "../workers/helpers.js";

const batch = (service: string, n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, level: "info", message: "m", service }));

describe("rate limits", () => {
  it("limits a noisy service with 429 and Retry-After, and leaves other services alone", async () => {
    const noisy = uniqueService("noisy");
    const quiet = uniqueService("quiet");
    expect((await ingest(batch(noisy, 1000, "n1"))).status).toBe(202); // the burst
    const res = await call("/api/logs/batch", {
      method: "POST",
      key: KEYS.admin,
      json: { logs: batch(noisy, 1000, "n2") },
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    // the refused entries were not stored: a retry with the same ids later is not a duplicate
    expect((await getJson(`/api/logs/n2-0`)).status).toBe(404);
    // a mixed batch: the quiet service's entries are stored, the noisy ones are rate_limited
    const mixed = await ingest([...batch(quiet, 2, "q"), ...batch(noisy, 998, "n3")]);
    expect(mixed.status).toBe(202);
    expect(mixed.body.accepted).toBe(2);
    expect(mixed.body.results[2].error?.code).toBe("rate_limited");
  });

  it("limits requests per key without affecting other keys", async () => {
    // 80 requests at once, so all of them fall in one 10 s window however slow the machine is
    // (one at a time, a busy CI host spread them over more than one window and none was refused)
    const answers = await Promise.all(Array.from({ length: 80 }, () => call("/api/services", { key: KEYS.apiOnly })));
    const limited = answers.find((r) => r.status === 429);
    expect(limited?.status).toBe(429);
    expect(limited?.headers.get("retry-after")).toBe("10");
    expect(((await limited!.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    expect((await call("/api/services", { key: KEYS.read })).status).toBe(200);
  });
});
