// Every route that takes a pattern or a service checks the key's services (issue 16, item 4):
// a key limited to `api` can't relabel another service's logs through learn, and history
// pattern queries show it neither other services' names nor their last_seen.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, getJson, ingest, KEYS, uniqueService } from "./helpers.js";

const API_ADMIN = "api-only-admin-key"; // admin scope, service "api" only (vitest.config.ts)

async function learn(key: string, patterns: unknown[]) {
  const res = await call("/api/logs/patterns/learn", { method: "POST", key, json: { patterns } });
  return { status: res.status, body: (await res.json()) as any };
}

describe("learn with a key limited to some services", () => {
  it("labels only its own services' logs", async () => {
    const other = uniqueService("other");
    const word = `scopedlearn${Math.random().toString(36).slice(2, 8)}`;
    const r = await learn(API_ADMIN, [
      { pattern: `${word} failed for <*>`, type: "error", severity: "critical", category: "data" },
    ]);
    expect(r.status).toBe(200);
    expect(r.body.patterns[0].services).toEqual(["api"]);
    const ingested = await ingest(
      [
        { id: `${word}-api`, level: "error", message: `${word} failed for user 1`, service: "api" },
        { id: `${word}-other`, level: "error", message: `${word} failed for user 2`, service: other },
      ],
      KEYS.admin,
    );
    expect(ingested.body.accepted).toBe(2);
    expect((await getJson(`/api/logs/${word}-api`)).body.category).toBe("data");
    expect((await getJson(`/api/logs/${word}-other`)).body.category).toBeUndefined();
  });

  it("refuses other services, unknown ids and patterns learned for everyone", async () => {
    const toOther = await learn(API_ADMIN, [
      { pattern: "x <*>", type: "info", severity: "low", services: ["billing"] },
    ]);
    expect(toOther.status).toBe(403);
    expect(toOther.body.error.details[0].path).toBe("patterns.0.services");

    const byId = await learn(API_ADMIN, [
      { id: "p_0123456789abcdef", pattern: "x <*>", type: "info", severity: "low" },
    ]);
    expect(byId.status).toBe(403);
    expect(byId.body.error.details[0].path).toBe("patterns.0.id");

    const global = await learn(KEYS.admin, [
      { pattern: "global timeout after <*>", type: "warning", severity: "medium" },
    ]);
    expect(global.status).toBe(200);
    const id = global.body.patterns[0].id as string;
    const hijack = await learn(API_ADMIN, [
      { id, pattern: "global timeout after <*>", type: "info", severity: "low", category: "ui" },
    ]);
    expect(hijack.status).toBe(403);
    const afterwards = await learn(KEYS.admin, [
      { id, pattern: "global timeout after <*>", type: "warning", severity: "medium" },
    ]);
    expect(afterwards.body.patterns[0]).toEqual({
      id,
      pattern: "global timeout after <*>",
      type: "warning",
      severity: "medium",
    });
  });
});

describe("pattern history for a key limited to some services", () => {
  const DAY = 86_400_000;
  // Messages carry the pattern id: the data service merges patterns with the same template, and
  // each test seeds its own.
  async function seedHistory() {
    const other = uniqueService("hist");
    const patternId = `p_hist${Math.random().toString(36).slice(2, 12)}`;
    const now = Date.now();
    const base = { received_at: now, level: "error", domain: "default", pattern_id: patternId };
    const logs = [
      {
        ...base,
        id: `${patternId}-a1`,
        timestamp: now - 5 * DAY,
        message: `${patternId} disk full on node 1`,
        service: "api",
      },
      {
        ...base,
        id: `${patternId}-a2`,
        timestamp: now - 4 * DAY,
        message: `${patternId} disk full on node 2`,
        service: "api",
      },
      {
        ...base,
        id: `${patternId}-b1`,
        timestamp: now - 2 * DAY,
        message: `${patternId} disk full on node 3`,
        service: other,
      },
    ];
    const binding = (env as unknown as { DATA_SERVICE: Fetcher }).DATA_SERVICE;
    const res = await binding.fetch("http://data-service.test/api/logs/batch", {
      method: "POST",
      headers: { authorization: "Bearer test-data-service-key", "content-type": "application/json" },
      body: JSON.stringify({ logs }),
    });
    expect(res.status).toBe(200);
    return { other, patternId, apiLast: now - 4 * DAY, now };
  }

  it("analytics/patterns over 7 days shows only its services and their last_seen", async () => {
    const { other, patternId, apiLast, now } = await seedHistory();
    const res = await getJson<{ patterns: { id: string; services: string[]; last_seen: number; frequency: number }[] }>(
      `/api/logs/analytics/patterns?start_time=${now - 7 * DAY}&end_time=${now}&limit=1000`,
      KEYS.apiOnly,
    );
    expect(res.status).toBe(200);
    const p = res.body.patterns.find((x) => x.id === patternId)!;
    expect(p).toMatchObject({ services: ["api"], last_seen: apiLast, frequency: 2 });
    expect(JSON.stringify(res.body)).not.toContain(other);
  });

  it("analyze over 7 days shows only its services and their last_seen", async () => {
    const { other, patternId, apiLast } = await seedHistory();
    const res = await call("/api/logs/analyze/patterns", {
      method: "POST",
      key: KEYS.apiOnly,
      json: { time_range: "7d", min_frequency: 1, limit: 1000 },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { patterns: { id: string; services: string[]; last_seen: number }[] };
    const p = body.patterns.find((x) => x.id === patternId)!;
    expect(p).toMatchObject({ services: ["api"], last_seen: apiLast });
    expect(JSON.stringify(body)).not.toContain(other);
  });
});
