// Stored error-rate checks: one webhook per state change (ok → breached → ok), hysteresis so a
// rate at the threshold doesn't flap, retries until the webhook takes it, and access control.
import { describe, expect, it, beforeEach } from "vitest";
import { call, getJson, ingest, KEYS, uniqueService } from "../workers/helpers.js";
import { http, HttpResponse } from "msw";
import { fake, server } from "./setup.js";

const logs = (service: string, level: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ level, message: `${level} ${i}`, service }));

async function until(pred: () => boolean, ms = 8000) {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

async function createCheck(service: string, extra: Record<string, unknown> = {}) {
  const res = await call("/api/checks", {
    method: "POST",
    key: KEYS.admin,
    json: {
      name: "api errors",
      service,
      window: "5m",
      threshold: 0.5,
      min_events: 4,
      webhook_url: "http://hooks.test/alert",
      ...extra,
    },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; state: string };
}

beforeEach(() => fake.reset());

describe("stored checks", () => {
  it("notifies once per transition, with hysteresis", async () => {
    const service = uniqueService("check");
    const check = await createCheck(service);
    expect(check.state).toBe("ok");

    await ingest([...logs(service, "error", 4), ...logs(service, "info", 1)]); // 0.8 > 0.5
    await until(() => fake.hooks.length >= 1);
    expect(fake.hooks).toHaveLength(1);
    expect(fake.hooks[0]).toMatchObject({ check_id: check.id, state: "breached", previous: "ok", rate: 0.8 });

    await ingest(logs(service, "error", 3)); // 7/8: still breached, nothing sent
    await ingest(logs(service, "info", 7)); // 7/15 ≈ 0.47: under the threshold, above 0.4: still breached
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.hooks).toHaveLength(1);
    expect((await getJson(`/api/checks/${check.id}`)).body.state).toBe("breached");

    await ingest(logs(service, "info", 3)); // 7/18 ≈ 0.39 ≤ 0.4: recovered
    await until(() => fake.hooks.length >= 2);
    expect(fake.hooks.map((h) => [h.previous, h.state])).toEqual([
      ["ok", "breached"],
      ["breached", "ok"],
    ]);
    expect(new Set(fake.hooks.map((h) => h.id)).size).toBe(2);
  });

  it("retries a failing webhook until it takes the notification, and delivers it once", async () => {
    const service = uniqueService("check-retry");
    fake.hookFailFirst = 2;
    await createCheck(service);
    await ingest(logs(service, "error", 5));
    await until(() => fake.hooks.length >= 1, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.hookAttempts).toBe(3);
    expect(fake.hooks).toHaveLength(1);
    expect(fake.hooks[0].state).toBe("breached");
  });

  it("evaluates a sharded service's check over the sum of its shards", { timeout: 30_000 }, async () => {
    const service = "check-sharded"; // 3 shards in this project
    await createCheck(service, { min_events: 30 });
    // 40 logs spread over 3 shards: no single shard holds min_events, the sum does
    await ingest(
      Array.from({ length: 40 }, (_, i) => ({
        id: `cs-${i}`,
        level: i % 4 === 0 ? "info" : "error",
        message: "x",
        service,
      })),
    );
    await until(() => fake.hooks.length >= 1, 20_000); // the alarm re-evaluates every 10 s
    expect(fake.hooks).toHaveLength(1);
    expect(fake.hooks[0]).toMatchObject({ state: "breached", total: 40, errors: 30 });
  });

  it("lists, reads and deletes checks with the right scopes", async () => {
    const service = uniqueService("check-crud");
    const check = await createCheck(service);
    expect((await call("/api/checks", { method: "POST", key: KEYS.read, json: {} })).status).toBe(403);
    const bad = await call("/api/checks", {
      method: "POST",
      key: KEYS.admin,
      json: { service, threshold: 2, webhook_url: "ftp://x" },
    });
    expect(bad.status).toBe(400);
    expect(
      ((await bad.json()) as { error: { details: { path: string }[] } }).error.details.map((d) => d.path).sort(),
    ).toEqual(["threshold", "webhook_url"]);
    const list = await getJson<{ checks: { id: string }[] }>("/api/checks");
    expect(list.body.checks.map((c) => c.id)).toContain(check.id);
    expect((await getJson(`/api/checks/${check.id}`, KEYS.apiOnly)).status).toBe(404); // other service
    expect((await call(`/api/checks/${check.id}`, { method: "DELETE", key: KEYS.read })).status).toBe(403);
    expect((await call(`/api/checks/${check.id}`, { method: "DELETE", key: KEYS.admin })).status).toBe(200);
    expect((await getJson(`/api/checks/${check.id}`)).status).toBe(404);
  });
});

describe("webhook safety (issue 16, item 7)", () => {
  it("refuses loopback, private, link-local, numeric-IP and local-name webhook URLs", async () => {
    const service = uniqueService("check-ssrf");
    const refused = [
      "http://127.0.0.1/hook",
      "http://2130706433/hook", // 127.0.0.1 spelt as one number
      "http://0x7f.1/hook",
      "http://10.0.0.5/hook",
      "http://192.168.1.1/hook",
      "http://169.254.169.254/latest/meta-data",
      "http://[::1]/hook",
      "http://[fe80::1]/hook",
      "http://localhost:8787/api/admin/flush",
      "http://api.localhost/hook",
      "http://metadata/computeMetadata",
      "http://db.internal/hook",
      "http://printer.local./hook",
    ];
    for (const webhook_url of refused) {
      const res = await call("/api/checks", { method: "POST", key: KEYS.admin, json: { service, webhook_url } });
      expect(res.status, webhook_url).toBe(400);
      const body = (await res.json()) as { error: { code: string; details: { path: string }[] } };
      expect(body.error.code).toBe("invalid_request");
      expect(body.error.details.map((d) => d.path)).toEqual(["webhook_url"]);
    }
    expect(
      (await getJson<{ checks: { service: string }[] }>("/api/checks")).body.checks.map((c) => c.service),
    ).not.toContain(service);
  });

  it("masks webhook URLs for read keys; admin keys see them whole", async () => {
    const service = uniqueService("check-mask");
    const check = await createCheck(service, { webhook_url: "http://hooks.test/alert?token=s3cret" });
    const asRead = await getJson<{ webhook_url: string }>(`/api/checks/${check.id}`, KEYS.read);
    expect(asRead.body.webhook_url).toBe("http://hooks.test/***");
    const listed = await getJson<{ checks: { id: string; webhook_url: string }[] }>("/api/checks", KEYS.read);
    const mine = listed.body.checks.find((c) => c.id === check.id)!;
    expect(mine.webhook_url).toBe("http://hooks.test/***");
    expect(JSON.stringify(listed.body)).not.toContain("s3cret");
    const asAdmin = await getJson<{ webhook_url: string }>(`/api/checks/${check.id}`, KEYS.admin);
    expect(asAdmin.body.webhook_url).toBe("http://hooks.test/alert?token=s3cret");
  });

  it("does not follow a redirect: a 3xx is a failed attempt and the redirect target is never called", async () => {
    const service = uniqueService("check-redirect");
    let redirects = 0;
    server.use(
      http.post("http://hooks.test/moved", () => {
        redirects++;
        return new HttpResponse(null, { status: 307, headers: { location: "http://hooks.test/alert" } });
      }),
    );
    await createCheck(service, { webhook_url: "http://hooks.test/moved" });
    await ingest(logs(service, "error", 5));
    await until(() => redirects >= 2, 10_000); // the first attempt and its retry (backoff 1 s)
    expect(redirects).toBeGreaterThanOrEqual(2);
    expect(fake.hookAttempts).toBe(0); // the Location was never followed
  });

  it("calls every due webhook in parallel: hanging hooks don't queue behind each other", async () => {
    const service = uniqueService("check-parallel");
    let arrived = 0;
    server.use(
      http.post("http://hooks.test/hang", async () => {
        arrived++;
        await new Promise((r) => setTimeout(r, 3_000));
        return new HttpResponse(null, { status: 204 });
      }),
    );
    for (let i = 0; i < 5; i++)
      await createCheck(service, { name: `hang ${i}`, webhook_url: "http://hooks.test/hang" });
    await ingest(logs(service, "error", 5));
    // Sequentially, the second call would start only when the first ended (3 s later).
    await until(() => arrived >= 5, 2_500);
    expect(arrived).toBe(5);
  });

  it("delivers a transition once when an admin flush races the alarm's delivery", async () => {
    const service = uniqueService("check-race");
    let arrived = 0;
    const ids: string[] = [];
    server.use(
      http.post("http://hooks.test/slow", async ({ request }) => {
        arrived++;
        ids.push(((await request.json()) as { id: string }).id);
        await new Promise((r) => setTimeout(r, 500));
        return new HttpResponse(null, { status: 204 });
      }),
    );
    await createCheck(service, { webhook_url: "http://hooks.test/slow" });
    await ingest(logs(service, "error", 5));
    await until(() => arrived >= 1); // the alarm's delivery is in flight
    const flush = await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin });
    expect(flush.status).toBe(200);
    await new Promise((r) => setTimeout(r, 800)); // the first delivery has answered by now
    expect(arrived).toBe(1);
    expect(ids).toHaveLength(1);
  });
});
