// The pattern push: the miner's patterns, with cumulative counts, go to the data service's
// learn endpoint, so its pattern routes and other services see them. Every alarm run checkpoints
// the miner; a push happens at most every FLUSH_INTERVAL_MS, and only when new logs were mined.
import { DAY_MS } from "../../src/core/duration.js";
import type { Config } from "../../src/config.js";
import { DataServiceClient } from "../../src/data-service-client.js";
import type { Env } from "../../src/env.js";
import type { PatternEngine } from "../pattern-engine.js";
import type { ScheduledTask } from "../scheduler.js";
import type { AggregatorParts } from "./context.js";

export class PatternPushJob implements ScheduledTask {
  readonly name = "patterns";
  readonly everyRun = true;
  #lastPushAt = 0;
  #pushedSeq = 0;

  constructor(private readonly parts: AggregatorParts) {}

  dueAt(): number | null {
    return null;
  }

  async run(now: number, force: boolean): Promise<void> {
    this.parts.patterns.checkpoint();
    const config = this.parts.config();
    const { service } = this.parts.identity();
    if (!config.persistenceEnabled || !service || (!force && now - this.#lastPushAt < config.flushIntervalMs)) return;
    this.#lastPushAt = now;
    const seq = this.parts.store.maxSeq();
    if (seq === this.#pushedSeq) return;
    if (await pushPatterns(this.parts.patterns, service, config, this.parts.env, now)) this.#pushedSeq = seq;
  }
}

/** Upserts mined patterns with cumulative counts (the data service keeps the max: retries are harmless). */
export async function pushPatterns(
  patterns: PatternEngine,
  service: string,
  config: Config,
  env: Env,
  now: number,
): Promise<boolean> {
  const list = patterns.list(
    service,
    { start: 0, end: Number.MAX_SAFE_INTEGER, bucketMs: DAY_MS, minFrequency: 1, limit: 1000, withTrend: false },
    now,
  );
  if (list.length === 0) return false;
  const client = DataServiceClient.fromEnv(config, env);
  try {
    const res = await client!.forward("POST", "/api/logs/patterns/learn", {
      patterns: list.map(
        ({ id, pattern, name, type, severity, category, frequency, first_seen, last_seen, services }) => ({
          id,
          pattern,
          name,
          type,
          severity,
          category,
          frequency,
          first_seen,
          last_seen,
          services,
        }),
      ),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return true;
  } catch (err) {
    // Patterns are derived data: the next run sends them again.
    console.error("pattern push failed", err instanceof Error ? err.message : String(err));
    return false;
  }
}
