// Stored error-rate checks: POST/GET/DELETE /api/checks. Each check lives in its service's
// aggregator (evaluated on ingest and on the alarm); the registry indexes where it lives.
// Creating and deleting need the admin scope; reading needs read. Keys limited to some
// services only see and manage checks of those services.
import { Hono } from "hono";
import { nanoid } from "nanoid";
import { ApiError, invalidRequest } from "../errors.js";
import type { Principal } from "../auth.js";
import { type Check, CheckInput, maskWebhookUrl } from "../schema/checks.js";
import { aggregatorName, DEFAULT_DOMAIN } from "../schema/log-entry.js";
import { REGISTRY_NAME } from "../../objects/service-registry.js";
import { aggregator } from "./aggregators.js";
import { readJsonBody } from "./body.js";
import { type AppContext, type AppEnv, requireKey } from "./context.js";
import { fanOut } from "./targets.js";

export const checkRoutes = new Hono<AppEnv>();

const registry = (c: AppContext) => c.env.SERVICE_REGISTRY.getByName(REGISTRY_NAME);

checkRoutes.post("/api/checks", async (c) => {
  const principal = await requireKey(c, "admin");
  const parsed = CheckInput.safeParse(await readJsonBody(c.req.raw));
  if (!parsed.success) throw invalidRequest(parsed.error);
  const input = parsed.data;
  principal.assertService(input.service);
  const domain = input.domain ?? DEFAULT_DOMAIN;
  const now = Date.now();
  const check: Check = {
    id: `chk_${nanoid(16)}`,
    ...(input.name ? { name: input.name } : {}),
    service: input.service,
    domain,
    window: input.window,
    threshold: input.threshold,
    min_events: input.min_events,
    webhook_url: input.webhook_url,
    created_at: now,
    state: "ok",
    state_since: now,
    last: null,
  };
  let stored: Check;
  try {
    stored = await aggregator(c.env, aggregatorName(domain, input.service)).addCheck(check);
  } catch (err) {
    throw new ApiError("invalid_request", 400, err instanceof Error ? err.message : String(err), [
      { path: "service", message: "too many checks" },
    ]);
  }
  await registry(c).indexCheck(check.id, domain, input.service);
  return c.json(stored, 201);
});

/** Webhook URLs often embed the receiver's secret: only admin keys see them whole. */
function shown(principal: Principal, check: Check): Check {
  return principal.has("admin") ? check : { ...check, webhook_url: maskWebhookUrl(check.webhook_url) };
}

checkRoutes.get("/api/checks", async (c) => {
  const principal = await requireKey(c, "read");
  const locations = (await registry(c).checkLocations()).filter((l) => principal.canAccess(l.service));
  const names = locations.map((l) => aggregatorName(l.domain, l.service));
  const lists = await fanOut(names, (name) => aggregator(c.env, name).listChecks());
  return c.json({ checks: lists.flat().map((check) => shown(principal, check)) });
});

async function locate(c: AppContext, id: string, scope: "read" | "admin") {
  const principal = await requireKey(c, scope);
  const loc = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await registry(c).findCheck(id) : null;
  if (!loc || !principal.canAccess(loc.service)) throw new ApiError("not_found", 404, `no check with id "${id}"`);
  return { principal, agg: aggregator(c.env, aggregatorName(loc.domain, loc.service)) };
}

checkRoutes.get("/api/checks/:id", async (c) => {
  const id = c.req.param("id");
  const { principal, agg } = await locate(c, id, "read");
  const found = (await agg.listChecks()).find((x) => x.id === id);
  if (!found) throw new ApiError("not_found", 404, `no check with id "${id}"`);
  return c.json(shown(principal, found));
});

checkRoutes.delete("/api/checks/:id", async (c) => {
  const id = c.req.param("id");
  const { agg } = await locate(c, id, "admin");
  await agg.removeCheck(id);
  await registry(c).unindexCheck(id);
  return c.json({ deleted: true, id });
});
