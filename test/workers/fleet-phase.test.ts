// Aggregators that start together do not wake together: each one's first alarm (its first KV
// snapshot, then its flush) is offset by its phase (src/core/phase.ts). Before, 300 services
// created in one minute pushed patterns and flushed in the same instant and stalled `wrangler dev`.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FLUSH_SPREAD } from "../../objects/jobs/flush-job.js";
import { FIRST_SNAPSHOT_SPREAD } from "../../objects/jobs/snapshot-job.js";
import { phaseOf } from "../../src/core/phase.js";
import { ingest, uniqueService } from "./helpers.js";

const SNAPSHOT_INTERVAL_MS = 30_000; // the default (wrangler.toml leaves it unset)
const FLUSH_INTERVAL_MS = 30_000;

describe("a fleet started at once", () => {
  it("arms each aggregator's first alarm at its own phase", async () => {
    // Services whose first alarm is at least 10 s out, so none fires before it is read
    // (a fired alarm reads as null while it runs).
    const services: string[] = [];
    while (services.length < 20) {
      const s = uniqueService(`fleet${services.length}`);
      if (phaseOf(`default/${s}`) >= 1 / 3) services.push(s);
    }
    const before = Date.now();
    const res = await ingest(services.map((service, i) => ({ id: `fp-${i}`, level: "info", message: "up", service })));
    expect(res.body.accepted).toBe(20);
    const after = Date.now();
    const alarms = await Promise.all(
      services.map((s) =>
        runInDurableObject(env.LOG_AGGREGATOR.getByName(`default/${s}`), (_, state) => state.storage.getAlarm()),
      ),
    );
    services.forEach((s, i) => {
      // the earlier of the first snapshot and the flush, each offset by the phase
      const phase = phaseOf(`default/${s}`);
      const offset = Math.min(
        Math.round(SNAPSHOT_INTERVAL_MS * FIRST_SNAPSHOT_SPREAD * phase),
        Math.round(FLUSH_INTERVAL_MS * (1 - FLUSH_SPREAD * phase)),
      );
      expect(alarms[i]).not.toBeNull();
      expect(alarms[i]!).toBeGreaterThanOrEqual(before + offset);
      expect(alarms[i]!).toBeLessThanOrEqual(after + offset);
    });
    const spread = Math.max(...alarms.map(Number)) - Math.min(...alarms.map(Number));
    expect(spread).toBeGreaterThan(1000);
  });
});
