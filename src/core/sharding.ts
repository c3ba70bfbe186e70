// Hot-service sharding: a service can be spread over N aggregators. An entry's shard is a hash
// of its id, so a resubmitted id always reaches the aggregator that holds it (idempotency
// survives sharding as long as N doesn't change). Shard 0 keeps the plain name, so N = 1 is the
// unsharded layout. Pure.
import { aggregatorName } from "../schema/log-entry.js";

export interface ShardConfig {
  shardsPerService: number;
  shardOverrides: ReadonlyMap<string, number>;
}

export const MAX_SHARDS = 64;

export function shardCount(config: ShardConfig, service: string): number {
  return config.shardOverrides.get(service) ?? config.shardsPerService;
}

export function shardName(domain: string, service: string, shard: number): string {
  const base = aggregatorName(domain, service);
  return shard === 0 ? base : `${base}#${shard}`;
}

/** Every aggregator of a domain/service, shard 0 first. */
export function shardNames(config: ShardConfig, domain: string, service: string): string[] {
  return Array.from({ length: shardCount(config, service) }, (_, i) => shardName(domain, service, i));
}

/** FNV-1a 32-bit of the id: stable across isolates and deployments. */
export function shardOf(id: string, shards: number): number {
  if (shards <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

/** Parses SHARD_OVERRIDES: `api=4,checkout=8` (service=count pairs). */
export function parseShardOverrides(text: string | undefined): Map<string, number> | string {
  const out = new Map<string, number>();
  if (!text?.trim()) return out;
  for (const pair of text.split(",")) {
    const m = /^\s*([A-Za-z0-9._-]{1,128})\s*=\s*(\d{1,2})\s*$/.exec(pair);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > MAX_SHARDS)
      return `"${pair.trim()}" is not service=count (count 1-${MAX_SHARDS})`;
    out.set(m[1], Number(m[2]));
  }
  return out;
}
