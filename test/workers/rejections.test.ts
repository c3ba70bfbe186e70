// No silent loss: every refused entry is counted per service and reason in /metrics and
// /health, and the latest are readable with their reasons at GET /api/admin/rejected.
import { describe, expect, it } from "vitest";
import { call, getJson, ingest, KEYS, uniqueService } from "./helpers.js";

interface RejectedReply {
  services: {
    service: string;
    domain: string;
    total: number;
    counts: Record<string, number>;
    recent: { at: number; reason: string; path: string; message: string; entry: string }[];
  }[];
  ring_size: number;
}

describe("rejections are visible", () => {
  it("counts refusals per service and reason, and lists the latest with reasons for an admin", async () => {
    const service = uniqueService("rej");
    const { status, body } = await ingest([
      { level: "info", message: "kept", service },
      { level: "info", message: "", service },
      { level: "info", message: "future", service, timestamp: Date.now() + 3 * 86_400_000 },
      { level: "info", message: "bad date", service, timestamp: "2026-02-30T00:00:00Z" },
      { level: "info", message: "no service" },
    ]);
    expect(status).toBe(202);
    expect([body.accepted, body.rejected]).toEqual([1, 4]);

    const forbiddenRead = await getJson("/api/admin/rejected", KEYS.read);
    expect(forbiddenRead.status).toBe(403);

    const { status: s2, body: rej } = await getJson<RejectedReply>(
      `/api/admin/rejected?service=${service}`,
      KEYS.admin,
    );
    expect(s2).toBe(200);
    expect(rej.ring_size).toBe(100);
    expect(rej.services).toHaveLength(1);
    expect(rej.services[0]).toMatchObject({
      service,
      domain: "default",
      total: 3,
      counts: { message: 1, timestamp: 2 },
    });
    expect(rej.services[0].recent.map((r) => [r.reason, r.path])).toEqual([
      ["timestamp", "logs.3.timestamp"],
      ["timestamp", "logs.2.timestamp"],
      ["message", "logs.1.message"],
    ]);
    expect(JSON.parse(rej.services[0].recent[2].entry)).toEqual({ level: "info", message: "", service });

    const all = await getJson<RejectedReply>("/api/admin/rejected", KEYS.admin);
    const unknown = all.body.services.find((s) => s.service === "unknown_service");
    expect(unknown?.recent.some((r) => r.path === "logs.4.service" && r.entry.includes("no service"))).toBe(true);

    const metrics = await (await call("/metrics", { key: KEYS.read })).text();
    const line = (reason: string) =>
      metrics
        .split("\n")
        .find(
          (l) =>
            l.startsWith("logger_logs_rejected_by_reason_total{") &&
            l.includes(`service="${service}"`) &&
            l.includes(`reason="${reason}"`),
        );
    expect(line("timestamp")).toMatch(/ 2$/);
    expect(line("message")).toMatch(/ 1$/);

    const health = await getJson<{
      rejected_total: number;
      rejected: { service: string; total: number; reasons: Record<string, number> }[];
    }>("/health");
    expect(health.body.rejected.find((r) => r.service === service)).toEqual({
      service,
      domain: "default",
      total: 3,
      reasons: { message: 1, timestamp: 2 },
    });
  });

  it("keeps only the last 100 refusals of a service, counting all of them", async () => {
    const service = uniqueService("ring");
    const batch = Array.from({ length: 150 }, (_, i) => ({ level: "info", message: "", service, id: `r-${i}` }));
    batch.push({ level: "info", message: "ok", service, id: "ok-1" });
    const { status } = await ingest(batch);
    expect(status).toBe(202);
    const { body } = await getJson<RejectedReply>(`/api/admin/rejected?service=${service}&limit=1000`, KEYS.admin);
    expect(body.services[0].total).toBe(150);
    expect(body.services[0].recent).toHaveLength(100);
    expect(body.services[0].recent[0].path).toBe("logs.149.message");
    expect(body.services[0].recent[99].path).toBe("logs.50.message");
  });
});
