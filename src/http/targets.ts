// Which aggregators a read touches: the registry's known domain/service pairs, narrowed by the
// query and by what the key may read (a key limited to `api` never reaches another service),
// each expanded into its shards (SHARDS_PER_SERVICE / SHARD_OVERRIDES).
import type { Principal } from "../auth.js";
import type { Env } from "../env.js";
import { loadConfig } from "../config.js";
import { shardNames } from "../core/sharding.js";
import { REGISTRY_NAME, type ServiceInfo } from "../../objects/service-registry.js";

/** One aggregator: a shard of a domain/service. */
export interface Target extends ServiceInfo {
  name: string;
}

/** Every shard of the given domain/service pairs. */
export async function expandShards(env: Env, services: ServiceInfo[]): Promise<Target[]> {
  const config = await loadConfig(env);
  return services.flatMap((s) => shardNames(config, s.domain, s.service).map((name) => ({ ...s, name })));
}

/** At most this many aggregators per fan-out; beyond it the caller must narrow by service. */
export const MAX_FANOUT = 1000;
export const FANOUT_CONCURRENCY = 32;

export async function knownServices(env: Env): Promise<ServiceInfo[]> {
  return env.SERVICE_REGISTRY.getByName(REGISTRY_NAME).list();
}

export async function resolveTargets(
  env: Env,
  principal: Principal,
  opts: { services?: string[]; domains?: string[] },
): Promise<Target[]> {
  if (opts.services) for (const s of opts.services) principal.assertService(s);
  const all = await knownServices(env);
  const matching = all
    .filter(
      (s) =>
        principal.canAccess(s.service) &&
        (!opts.services || opts.services.includes(s.service)) &&
        (!opts.domains || opts.domains.includes(s.domain)),
    )
    .slice(0, MAX_FANOUT);
  return expandShards(env, matching);
}
