import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../src/core/token-bucket.js";

describe("TokenBucket", () => {
  it("allows the burst, then the rate, and says when to retry", () => {
    const b = new TokenBucket(100, 1000, 0);
    expect(b.take(1000, 0)).toEqual({ ok: true });
    expect(b.take(1, 0)).toEqual({ ok: false, retryAfterMs: 10 });
    expect(b.take(50, 500)).toEqual({ ok: true }); // 0.5 s refilled 50
    expect(b.take(100, 500)).toEqual({ ok: false, retryAfterMs: 1000 });
    expect(b.take(100, 1500)).toEqual({ ok: true });
    expect(b.take(10, 100_000)).toEqual({ ok: true }); // refills up to the burst only
    expect(b.take(991, 100_000)).toMatchObject({ ok: false });
  });
});
