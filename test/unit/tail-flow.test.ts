// Flow control for tail subscribers (src/core/tail-flow.ts): the byte budget, the sampler's
// exact keep counts and announced rates, and which sources a hub subscription sees.
import { describe, expect, it } from "vitest";
import {
  ByteBudget,
  hubSeesSource,
  parseBytesPerSecond,
  subscriberBudget,
  TailSampler,
} from "../../src/core/tail-flow.js";

describe("ByteBudget", () => {
  it("spends its burst, refuses what does not fit, and refills at its rate", () => {
    const b = new ByteBudget(1000, 2000, 0);
    expect(b.take(1500, 0)).toBe(true);
    expect(b.take(600, 0)).toBe(false); // 500 left: nothing is spent
    expect(b.take(500, 0)).toBe(true);
    expect(b.take(1, 0)).toBe(false);
    expect(b.take(250, 250)).toBe(true); // 250 ms at 1000 B/s
    expect(b.available(10_000)).toBe(2000); // never above the burst
  });

  it("gives at least 64 KiB of burst and parses its setting", () => {
    expect(subscriberBudget(1000, 0).burstBytes).toBe(64 * 1024);
    expect(subscriberBudget(1_000_000, 0).burstBytes).toBe(2_000_000);
    expect(parseBytesPerSecond("5000")).toBe(5000);
    expect(parseBytesPerSecond("-1")).toBe(1024 * 1024);
    expect(parseBytesPerSecond(undefined)).toBe(1024 * 1024);
  });
});

describe("TailSampler", () => {
  it("keeps everything while demand fits the budget", () => {
    const s = new TailSampler(10_000, 0);
    let kept = 0;
    for (let t = 0; t < 5000; t += 10) if (s.keep(50, t)) kept++; // 5,000 B/s
    expect(kept).toBe(500);
    expect(s.rate).toBe(1);
  });

  it("samples to budget / demand from the next window on, exactly every 1/rate-th log", () => {
    const s = new TailSampler(1000, 0);
    let kept = 0;
    for (let i = 0; i < 100; i++) if (s.keep(100, i * 10)) kept++; // window 1: 10,000 B/s
    expect(kept).toBe(100); // the first window is measured, not yet sampled
    expect(s.rate).toBe(1);
    kept = 0;
    for (let i = 0; i < 100; i++) if (s.keep(100, 1000 + i * 10)) kept++;
    expect(s.rate).toBe(0.1);
    expect(kept).toBe(10);
  });

  it("goes back to 1 when the stream slows down, and never below 0.01", () => {
    const s = new TailSampler(100, 0);
    for (let i = 0; i < 1000; i++) s.keep(1000, i); // 1 MB in one second
    s.keep(1, 1000);
    expect(s.rate).toBe(0.01);
    s.keep(1, 2500); // a quiet window
    expect(s.rate).toBe(1);
  });
});

describe("hubSeesSource", () => {
  it("applies services, the key's services, domains and the directly tailed sources", () => {
    expect(hubSeesSource({}, "default/api", "default", "api")).toBe(true);
    expect(hubSeesSource({ services: ["web"] }, "default/api", "default", "api")).toBe(false);
    expect(hubSeesSource({ allowed: ["web"] }, "default/api", "default", "api")).toBe(false);
    expect(hubSeesSource({ domains: ["shop.example"] }, "default/api", "default", "api")).toBe(false);
    expect(hubSeesSource({ services: ["api"], exclude: ["default/api"] }, "default/api", "default", "api")).toBe(false);
    expect(hubSeesSource({ services: ["api"], exclude: ["default/api"] }, "x.example/api", "x.example", "api")).toBe(
      true,
    );
  });
});
