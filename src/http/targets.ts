// Which aggregators a read touches: the registry's known domain/service pairs, narrowed by the
// query and by what the key may read. A key limited to `api` never reaches another service.
import type { Principal } from "../auth.js";
import type { Env } from "../env.js";
import { aggregatorName } from "../schema/log-entry.js";
import { REGISTRY_NAME, type ServiceInfo } from "../../objects/service-registry.js";

export interface Target extends ServiceInfo {
  name: string;
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
  return all
    .filter(
      (s) =>
        principal.canAccess(s.service) &&
        (!opts.services || opts.services.includes(s.service)) &&
        (!opts.domains || opts.domains.includes(s.domain)),
    )
    .slice(0, MAX_FANOUT)
    .map((s) => ({ ...s, name: aggregatorName(s.domain, s.service) }));
}
