// The auth matrix: no key → 401, unknown key → 401, wrong scope → 403, a service the key may
// not touch → 403, and a service-limited key never sees other services in fan-out reads.
import { describe, expect, it } from "vitest";
import { call, getJson, ingest, KEYS, uniqueService } from "./helpers.js";

describe("auth", () => {
  it("answers 401 without a key or with an unknown one, in the JSON error shape", async () => {
    for (const key of [undefined, "not-a-key"]) {
      const r = await call("/api/logs/search", { key });
      expect(r.status).toBe(401);
      expect(await r.json()).toMatchObject({ error: { code: "unauthorized" } });
      const w = await call("/api/logs/batch", { method: "POST", key, json: { logs: [] } });
      expect(w.status).toBe(401);
    }
    const malformed = await call("/api/logs/search", { headers: { authorization: "Basic abc" } });
    expect(malformed.status).toBe(401);
  });

  it("accepts X-API-Key as well as Bearer", async () => {
    const r = await call("/api/services", { headers: { "x-api-key": KEYS.read } });
    expect(r.status).toBe(200);
  });

  it("answers 403 for a wrong scope", async () => {
    const readWrites = await ingest([{ level: "info", message: "x", service: "api" }], KEYS.read);
    expect(readWrites.status).toBe(403);
    const ingestReads = await getJson("/api/logs/search", KEYS.ingest);
    expect(ingestReads.status).toBe(403);
    expect(ingestReads.body.error.code).toBe("forbidden");
    const adminReads = await getJson("/api/services", KEYS.admin);
    expect(adminReads.status).toBe(200);
  });

  it("answers 403 for a service outside the key's list, and stores allowed neighbours", async () => {
    const other = uniqueService("other");
    const onlyOther = await ingest([{ level: "info", message: "x", service: other }], KEYS.ingestApiOnly);
    expect(onlyOther.status).toBe(403);
    expect((onlyOther.body as any).error.code).toBe("forbidden");
    const mixed = await ingest(
      [
        { id: "auth-api-1", level: "info", message: "mine", service: "api" },
        { level: "info", message: "not mine", service: other },
      ],
      KEYS.ingestApiOnly,
    );
    expect(mixed.status).toBe(202);
    expect(mixed.body.results[1]).toMatchObject({
      index: 1,
      error: { code: "forbidden", details: [{ path: "logs.1.service" }] },
    });

    expect((await getJson(`/api/services/${other}/stats`, KEYS.apiOnly)).status).toBe(403);
    expect((await getJson(`/api/services/${other}/error-rate`, KEYS.apiOnly)).status).toBe(403);
    expect((await getJson(`/api/logs/search?service=${other}`, KEYS.apiOnly)).status).toBe(403);
  });

  it("limits fan-out reads to the key's services", async () => {
    const other = uniqueService("hidden");
    await ingest([
      { id: "fan-api-1", level: "error", message: "visible", service: "api" },
      { id: "fan-hidden-1", level: "error", message: "hidden", service: other },
    ]);
    const search = await getJson<{ logs: { service: string }[] }>(`/api/logs/search?limit=1000`, KEYS.apiOnly);
    expect(search.status).toBe(200);
    expect(search.body.logs.length).toBeGreaterThan(0);
    expect(new Set(search.body.logs.map((l) => l.service))).toEqual(new Set(["api"]));
    const services = await getJson<{ services: { service: string }[] }>(`/api/services`, KEYS.apiOnly);
    expect(services.body.services.map((s) => s.service)).toEqual(["api"]);
    expect((await getJson(`/api/logs/fan-hidden-1`, KEYS.apiOnly)).status).toBe(404);
    expect((await getJson(`/api/logs/fan-api-1`, KEYS.apiOnly)).status).toBe(200);
  });

  it("serves /health without a key", async () => {
    const r = await call("/health");
    expect(r.status).toBe(200);
  });
});
