// Shared per-request plumbing for the routes: config, auth and typed Hono variables.
import type { Context } from "hono";
import { authenticate, presentedKey, type Principal } from "../auth.js";
import type { Config, Scope } from "../config.js";
import type { Env } from "../env.js";
import { ApiError, invalidRequest } from "../errors.js";
import type { z } from "zod";

export type AppEnv = { Bindings: Env; Variables: { config: Config } };
export type AppContext = Context<AppEnv>;

/** Seconds a client waits after the per-key limiter refuses it (the limiter's period is 10 s or 60 s). */
export const KEY_RETRY_AFTER_S = 10;

/**
 * Authenticates, then applies the per-key request limit (Workers Rate Limiting binding
 * KEY_RATE_LIMITER, when bound), so one noisy client can't starve the others.
 */
export async function requireKey(c: AppContext, scope: Scope, allowQueryToken = false): Promise<Principal> {
  const principal = await authenticate(c.get("config"), presentedKey(c, allowQueryToken), scope);
  const limiter = c.env.KEY_RATE_LIMITER;
  if (limiter) {
    const { success } = await limiter.limit({ key: `key:${principal.key.name}` });
    if (!success) {
      throw new ApiError("rate_limited", 429, `too many requests for key "${principal.key.name}"`, undefined, {
        "retry-after": String(KEY_RETRY_AFTER_S),
      });
    }
  }
  return principal;
}

/** Parses the query string with a zod schema; every failure is 400 invalid_request with paths. */
export function parseQuery<T extends z.ZodTypeAny>(c: AppContext, schema: T): z.output<T> {
  const raw: Record<string, string> = {};
  const url = new URL(c.req.url);
  for (const [k, v] of url.searchParams) {
    if (k === "token") continue;
    if (k in raw)
      throw new ApiError("invalid_request", 400, `${k}: given more than once`, [
        { path: k, message: "given more than once" },
      ]);
    raw[k] = v;
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw invalidRequest(r.error);
  return r.data;
}
