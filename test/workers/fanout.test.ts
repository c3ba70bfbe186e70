// Fan-out never silently truncates (issue 16, item 3). Reads page through the registry; a read
// that would reach more than MAX_FANOUT (10,000) aggregators answers an explicit 400 that asks
// for service=, instead of the first 1000 in registry order. (This pool can't host 1000+ live
// Durable Objects in one run, so the bound is proved on resolveTargets, before any is called,
// and get-by-id's walk (firstFound) by test/unit/concurrency.test.ts.) And one key may create at most
// NEW_SERVICES_PER_MINUTE (100 here) new services a minute, the rest refused with a reason.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ServiceRegistry } from "../../objects/service-registry.js";
import { Principal } from "../../src/auth.js";
import { ApiError } from "../../src/errors.js";
import { knownServices, MAX_FANOUT, resolveTargets } from "../../src/http/targets.js";
import { call, getJson, ingest, KEYS } from "./helpers.js";

const registry = () => env.SERVICE_REGISTRY.getByName("global");
const FILLERS = MAX_FANOUT + 1;
const FILL_DOMAIN = "fill.example";

async function withFillers<T>(fn: () => Promise<T>): Promise<T> {
  await runInDurableObject(registry(), (_: ServiceRegistry, state: DurableObjectState) => {
    const now = Date.now();
    for (let i = 0; i < FILLERS; i++)
      state.storage.sql.exec(
        "INSERT OR IGNORE INTO services(domain, service, first_seen, last_seen) VALUES (?, ?, ?, ?)",
        FILL_DOMAIN,
        `fill-${String(i).padStart(5, "0")}`,
        now,
        now,
      );
  });
  try {
    return await fn();
  } finally {
    await runInDurableObject(registry(), (_: ServiceRegistry, state: DurableObjectState) => {
      state.storage.sql.exec("DELETE FROM services WHERE domain = ?", FILL_DOMAIN);
    });
  }
}

describe("fan-out past the bound", () => {
  it("reads every registry row, page by page", { timeout: 60_000 }, async () => {
    await withFillers(async () => {
      const all = await knownServices(env as never);
      expect(all.filter((s) => s.domain === FILL_DOMAIN)).toHaveLength(FILLERS);
      const page = await registry().listPage(null, 1000);
      expect(page.services).toHaveLength(1000);
      expect(page.next).not.toBeNull();
    });
  });

  it("answers an explicit 400 naming service= instead of a partial fan-out", { timeout: 60_000 }, async () => {
    await withFillers(async () => {
      const everyService = new Principal({
        name: "t",
        hash: new Uint8Array(),
        scopes: new Set(["read"]),
        services: null,
      });
      const err = await resolveTargets(env as never, everyService, {}).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(400);
      expect((err as ApiError).toBody().error).toMatchObject({
        code: "invalid_request",
        details: [{ path: "service" }],
      });
      expect((err as ApiError).message).toContain(`reaches ${FILLERS}`);
      // narrowed by service, or walked until a hit (get-by-id), the same registry is fine
      expect(await resolveTargets(env as never, everyService, { services: ["fill-00001"] })).toHaveLength(1);
      expect(await resolveTargets(env as never, everyService, {}, { uncapped: true })).toHaveLength(
        (await knownServices(env as never)).length,
      );
    });
  });
});

describe("a query that names its services", () => {
  it("reads only their registry rows, in every domain or only the named ones", async () => {
    const run = Math.random().toString(36).slice(2, 8);
    const [a, b] = [`named-a-${run}`, `named-b-${run}`];
    await registry().touch("one.example", a, 1_000);
    await registry().touch("two.example", a, 2_000);
    await registry().touch("one.example", b, 3_000);
    expect(await registry().find([a], null)).toEqual([
      { domain: "one.example", service: a, first_seen: 1_000, last_seen: 1_000 },
      { domain: "two.example", service: a, first_seen: 2_000, last_seen: 2_000 },
    ]);
    expect((await registry().find([a, b], ["one.example"])).map((s) => s.service)).toEqual([a, b]);
    expect(await registry().find([`never-${run}`], null)).toEqual([]);
    const reader = new Principal({ name: "t", hash: new Uint8Array(), scopes: new Set(["read"]), services: null });
    const targets = await resolveTargets(env as never, reader, { services: [a], domains: ["two.example"] });
    expect(targets.map((t) => t.name)).toEqual([`two.example/${a}`]);
  });
});

describe("new services per key and minute", () => {
  it("admits NEW_SERVICES_PER_MINUTE new services a minute per key and refuses the rest, counted as rejections", async () => {
    // the budget is a fixed per-minute window: don't start in its last seconds
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    const KEY = "fanout-ingest-key"; // new_services_per_minute: 3 (vitest.config.ts)
    const run = Math.random().toString(36).slice(2, 8);
    const logs = Array.from({ length: 5 }, (_, i) => ({
      id: `new-svc-${run}-${i}`,
      level: "info",
      message: "hello",
      service: `new-${run}-${i}`,
    }));
    logs.push({ ...logs[0], id: `new-svc-${run}-again` }); // a known-in-this-batch service passes
    const first = await ingest(logs, KEY);
    expect(first.status).toBe(202);
    expect(first.body.accepted).toBe(4);
    expect(first.body.rejected).toBe(2);
    const refused = first.body.results.filter((r) => r.error);
    expect(refused.map((r) => r.index)).toEqual([3, 4]);
    for (const r of refused) {
      expect(r.error!.code).toBe("rate_limited");
      expect((r.error as unknown as { message: string }).message).toContain("NEW_SERVICES_PER_MINUTE");
    }

    // known services still pass; a request naming only a new one is 429 with Retry-After
    const known = await ingest([{ level: "info", message: "again", service: logs[1].service }], KEY);
    expect(known.body.accepted).toBe(1);
    const res = await call("/api/logs/batch", {
      method: "POST",
      key: KEY,
      json: { logs: [{ level: "info", message: "x", service: `new-${run}-extra` }] },
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    // entries that fail validation can't create a service past the limit either
    const invalid = await ingest([{ level: "info", message: "", service: `new-${run}-invalid` }], KEY);
    expect(invalid.status).toBe(400);
    // another key has its own budget
    expect((await ingest([{ level: "info", message: "x", service: `new-${run}-other-key` }])).body.accepted).toBe(1);

    const names = (await getJson<{ services: { service: string }[] }>("/api/services")).body.services.map(
      (s) => s.service,
    );
    const metrics = await (await call("/metrics", { key: KEYS.read })).text();
    expect(Number(/^logger_services_refused_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
    expect(names.filter((n) => n.startsWith(`new-${run}-`)).sort()).toEqual(
      [`new-${run}-0`, `new-${run}-1`, `new-${run}-2`, `new-${run}-other-key`].sort(),
    );
  });
});
