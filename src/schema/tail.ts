// The live tail's wire shapes: the subscription filter (validated at the Worker edge, passed to
// the aggregator), server frames, and the resume cursor (a map of "domain/service" → last seq).
import { z } from "zod";
import { LEVELS, SERVICE_NAME_RE } from "./log-entry.js";

export const TailFilter = z.object({
  levels: z.array(z.enum(LEVELS)).max(4).optional(),
  q: z.string().min(1).max(256).optional(),
  patternId: z.string().min(1).max(64).optional(),
  patternIds: z.array(z.string().max(64)).max(100).optional(),
});
export type TailFilter = z.infer<typeof TailFilter>;

/** What the Worker hands the aggregator's fetch() for one subscriber. */
export const TailSubscription = z.object({
  filter: TailFilter,
  /** replay logs with seq > since before going live */
  since: z.number().int().min(0).optional(),
});
export type TailSubscription = z.infer<typeof TailSubscription>;

export const TailQuery = z
  .object({
    service: z.string().max(4096).optional(),
    domain: z.string().max(1024).optional(),
    level: z.string().max(64).optional(),
    q: z.string().min(1).max(256).optional(),
    pattern_id: z.string().min(1).max(64).optional(),
    since: z.string().min(1).max(8192).optional(),
  })
  .strict();

/**
 * What the Worker hands the tail hub (objects/tail-hub.ts) for one subscriber: which sources it
 * may see, which it already tails directly from their aggregators (`exclude`), and the hub
 * position to replay after. Kept small: it is the socket's attachment (≤ 16 KiB).
 */
export const HubSubscription = z.object({
  filter: TailFilter,
  /** only these services (absent: every service) */
  services: z.array(z.string().regex(SERVICE_NAME_RE)).max(100).optional(),
  /** the services the key may read (absent: all) */
  allowed: z.array(z.string().regex(SERVICE_NAME_RE)).max(1000).optional(),
  domains: z.array(z.string().max(253)).max(20).optional(),
  /** aggregator names the Worker tails directly: never delivered twice */
  exclude: z.array(z.string().max(400)).max(16).optional(),
  /** replay hub entries with hub seq > since before going live */
  since: z.number().int().min(0).optional(),
});
export type HubSubscription = z.infer<typeof HubSubscription>;

/**
 * The resume cursor: aggregator name ("<domain>/<service>", "<domain>/<service>#<shard>") → last
 * seq delivered from it, and HUB_CURSOR_KEY → last hub seq (sources reached through the hub).
 */
export type TailCursor = Record<string, number>;
export const HUB_CURSOR_KEY = "*";

export function encodeTailCursor(c: TailCursor): string {
  return btoa(JSON.stringify(c)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeTailCursor(text: string): TailCursor | undefined {
  try {
    const obj = JSON.parse(atob(text.replace(/-/g, "+").replace(/_/g, "/"))) as unknown;
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return undefined;
    const out: TailCursor = {};
    for (const [k, v] of Object.entries(obj)) {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) return undefined;
      if (k === HUB_CURSOR_KEY) {
        out[k] = v;
        continue;
      }
      // "<domain>/<service>" or, for a shard, "<domain>/<service>#<n>"
      const [domain, aggregator, extra] = k.split("/");
      const service = aggregator?.replace(/#\d{1,2}$/, "");
      if (!domain || !service || extra !== undefined || !SERVICE_NAME_RE.test(service)) return undefined;
      out[k] = v;
    }
    return out;
  } catch {
    return undefined;
  }
}
