// What the alarm's jobs share: the aggregator's parts and who it is. The facade
// (objects/log-aggregator.ts) builds one and hands it to every job; a job keeps its own state.
import type { Config } from "../../src/config.js";
import type { Env } from "../../src/env.js";
import type { LiveCounters } from "../live-counters.js";
import type { PatternEngine } from "../pattern-engine.js";
import type { SegmentStore } from "../segment-store.js";

export interface AggregatorParts {
  readonly sql: SqlStorage;
  readonly env: Env;
  readonly store: SegmentStore;
  readonly counters: LiveCounters;
  readonly patterns: PatternEngine;
  /** The configuration as of the current event (the facade reloads it on each). */
  config(): Config;
  /** Who this aggregator is ("" before its first log); `name` is "<domain>/<service>[#shard]". */
  identity(): { service: string; domain: string; name: string };
}
