// Patterns in the aggregator: every stored log gets a pattern_id, patterns merge by template
// across services, survive restarts with the same ids, and feed similar / learn / analyze.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, getJson, ingest, KEYS, restartObject, uniqueService } from "./helpers.js";

type P = {
  id: string;
  pattern: string;
  frequency: number;
  type: string;
  severity: string;
  services: string[];
  name?: string;
  category?: string;
  trend?: { time: number; count: number }[];
};

const users = ["alice", "bob", "carol", "dave", "erin", "frank"];
function loginLogs(service: string, n: number, prefix: string) {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-login-${i}`,
    level: "info",
    message: `User ${users[i % users.length]} logged in from 10.0.${i}.7 in ${20 + i} ms`,
    service,
  }));
}
function dbErrors(service: string, n: number, prefix: string, priority?: number) {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-db-${i}`,
    level: "error",
    message: `Database timeout after ${3000 + i} ms on shard ${i % 7}`,
    service,
    priority,
  }));
}

async function patternsOf(query: string): Promise<P[]> {
  const r = await getJson<{ patterns: P[] }>(`/api/logs/analytics/patterns?${query}`);
  expect(r.status).toBe(200);
  return r.body.patterns;
}

describe("patterns", () => {
  it("gives every stored log a pattern_id, shared by logs of one template", async () => {
    const service = uniqueService("pat");
    await ingest([...loginLogs(service, 12, "p1"), ...dbErrors(service, 8, "p1", 5)]);
    const logins = await getJson<{ logs: { pattern_id: string }[] }>(
      `/api/logs/search?service=${service}&q=logged%20in&limit=100`,
    );
    // the first users got their own pattern until "User <*>" generalised: those ids now
    // resolve to the merged pattern, so a filter by any of them finds all 12
    const ids = [...new Set(logins.body.logs.map((l) => l.pattern_id))];
    expect(ids.every((id) => /^p[0-9a-f]+/.test(id))).toBe(true);
    for (const id of ids) {
      const byPattern = await getJson<{ logs: unknown[] }>(
        `/api/logs/search?service=${service}&pattern_id=${id}&limit=100`,
      );
      expect(byPattern.body.logs).toHaveLength(12);
    }

    const patterns = await patternsOf(`service=${service}`);
    expect(patterns.map((p) => [p.pattern, p.frequency, p.type, p.severity])).toEqual([
      ["User <*> logged in from <*> in <*> ms", 12, "info", "low"],
      ["Database timeout after <*> ms on shard <*>", 8, "error", "critical"],
    ]);
    expect(ids).toContain(patterns[0].id);
    expect(patterns[0].trend!.reduce((a, t) => a + t.count, 0)).toBe(12);
  });

  it("merges one template seen by two services into one pattern", async () => {
    const a = uniqueService("merge-a");
    const b = uniqueService("merge-b");
    await ingest([...dbErrors(a, 5, "ma"), ...dbErrors(b, 6, "mb")]);
    const patterns = await patternsOf(`service=${a},${b}`);
    expect(patterns).toHaveLength(1);
    expect(patterns[0]).toMatchObject({ frequency: 11, services: [a, b].sort(), type: "error" });
  });

  it("keeps pattern ids and counts across a restart", async () => {
    const service = uniqueService("pat-restart");
    await ingest(loginLogs(service, 10, "pr1"));
    const before = await patternsOf(`service=${service}`);
    await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin }); // checkpoint
    await ingest(loginLogs(service, 5, "pr2")); // after the checkpoint: replayed on restart
    await restartObject(env.LOG_AGGREGATOR.getByName(`default/${service}`));
    await ingest(loginLogs(service, 3, "pr3"));
    const after = await patternsOf(`service=${service}`);
    expect(after).toHaveLength(1);
    expect(after[0].id).toBe(before[0].id);
    expect(after[0].frequency).toBe(18);
    const last = await getJson(`/api/logs/pr3-login-2`);
    expect(last.body.pattern_id).toBe(before[0].id);
  });

  it("finds similar patterns by message and by pattern id", async () => {
    const service = uniqueService("similar");
    await ingest([
      ...dbErrors(service, 6, "s1"),
      ...Array.from({ length: 6 }, (_, i) => ({
        level: "error",
        message: `Database timeout after ${i} ms on replica ${i}`,
        service,
      })),
      ...loginLogs(service, 6, "s1"),
    ]);
    const byMessage = await getJson<{ patterns: (P & { similarity: number })[] }>(
      `/api/logs/patterns/similar?message=${encodeURIComponent("Database timeout after 12 ms on shard 3")}&limit=5`,
    );
    expect(byMessage.status).toBe(200);
    expect(byMessage.body.patterns[0]).toMatchObject({
      pattern: "Database timeout after <*> ms on shard <*>",
      similarity: 1,
    });
    expect(byMessage.body.patterns[1].pattern).toBe("Database timeout after <*> ms on replica <*>");
    const id = byMessage.body.patterns[0].id;
    const byId = await getJson<{ patterns: (P & { similarity: number })[] }>(
      `/api/logs/patterns/similar?pattern_id=${id}`,
    );
    expect(byId.body.patterns[0].pattern).toBe("Database timeout after <*> ms on replica <*>");
    expect(byId.body.patterns[0].similarity).toBeGreaterThan(0.7);
    expect((await getJson(`/api/logs/patterns/similar?pattern_id=pnope`)).status).toBe(404);
    expect((await getJson(`/api/logs/patterns/similar`)).status).toBe(400);
  });

  it("labels matching logs and patterns with learned names and categories", async () => {
    const service = uniqueService("learn");
    const learn = await call("/api/logs/patterns/learn", {
      method: "POST",
      key: KEYS.admin,
      json: {
        patterns: [
          {
            pattern: "Payment <*> declined by <*>",
            name: "payment-declined",
            type: "error",
            severity: "high",
            category: "api",
          },
        ],
      },
    });
    expect(learn.status).toBe(200);
    expect(
      (await call("/api/logs/patterns/learn", { method: "POST", key: KEYS.read, json: { patterns: [] } })).status,
    ).toBe(403);
    await ingest([
      { id: "lr-1", level: "error", message: "Payment 991 declined by issuer", service },
      { id: "lr-2", level: "error", message: "Payment 992 declined by bank", service, category: "data" },
      { id: "lr-3", level: "error", message: "Payment 993 declined by issuer", service },
      { id: "lr-4", level: "info", message: "something else entirely", service },
    ]);
    expect((await getJson(`/api/logs/lr-1`)).body.category).toBe("api");
    expect((await getJson(`/api/logs/lr-2`)).body.category).toBe("data"); // its own category stays
    expect((await getJson(`/api/logs/lr-4`)).body.category).toBeUndefined();
    const patterns = await patternsOf(`service=${service}`);
    const payment = patterns.find((p) => p.pattern.startsWith("Payment"));
    expect(payment).toMatchObject({ name: "payment-declined", severity: "high", category: "api" });
  });

  it("flags a rare new error and a spiking pattern in analyze", async () => {
    const service = uniqueService("analyze");
    const now = Date.now();
    const hour = 3_600_000;
    const logs = [];
    // steady: 2 per hour-bucket for 12 hours; spiking: 1 per bucket then 20 in the last
    for (let b = 0; b < 12; b++) {
      const ts = now - (11 - b) * hour - 60_000;
      logs.push(
        { level: "info", message: `steady heartbeat ${b} ok`, service, timestamp: ts },
        { level: "info", message: `steady heartbeat ${b + 100} ok`, service, timestamp: ts + 1 },
      );
      const spikes = b === 11 ? 20 : 1;
      for (let i = 0; i < spikes; i++)
        logs.push({ level: "warn", message: `queue depth ${i + b * 10} over limit`, service, timestamp: ts + 2 + i });
    }
    logs.push({
      level: "error",
      message: "Certificate for api.example.com expired",
      service,
      timestamp: now - 5 * 60_000,
    });
    expect((await ingest(logs)).body.accepted).toBe(logs.length);
    const res = await call("/api/logs/analyze/patterns", {
      method: "POST",
      key: KEYS.read,
      json: { time_range: "12h", services: [service], min_frequency: 5 },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { patterns: (P & { new: boolean; spiking: boolean })[] };
    const flags = Object.fromEntries(body.patterns.map((p) => [p.pattern, [p.frequency, p.new, p.spiking]]));
    expect(flags).toEqual({
      "Certificate for api.example.com expired": [1, true, false],
      "queue depth <*> over limit": [31, false, true],
      "steady heartbeat <*> ok": [24, false, false],
    });
  });
});
