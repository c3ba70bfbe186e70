// A fake data service at http://data.test (msw), recording every id it stores, and able to fail
// on demand: 5xx, timeouts, refused connections, or a permanent 400 for chosen ids.
import { http, HttpResponse, delay } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll } from "vitest";

export type Failure = "none" | "503" | "timeout" | "refused" | "slow-accept" | "hold";

export const fake = {
  stored: new Map<string, number>(), // id → times stored (a duplicate send doesn't count twice)
  calls: [] as string[][], // ids of every batch call received, in order
  failure: "none" as Failure,
  refuseIds: new Set<string>(),
  /** webhook bodies that were answered 2xx, and how many attempts to fail before that */
  hooks: [] as {
    state: string;
    previous: string;
    id: string;
    check_id: string;
    rate: number;
    total: number;
    errors: number;
  }[],
  hookAttempts: 0,
  hookFailFirst: 0,
  reset() {
    this.hooks.length = 0;
    this.hookAttempts = 0;
    this.hookFailFirst = 0;
    this.stored.clear();
    this.calls.length = 0;
    this.failure = "none";
    this.refuseIds.clear();
  },
};

export const server = setupServer(
  // mined patterns are upserted after each flush; this fake only acknowledges them
  http.post("http://data.test/api/logs/patterns/learn", () =>
    HttpResponse.json({ created: 0, updated: 0, patterns: [] }),
  ),
  // /health probes the service with a GET of an unknown id: 404 means reachable
  http.get("http://data.test/api/logs/:id", () =>
    HttpResponse.json({ error: { code: "not_found", message: "no such log" } }, { status: 404 }),
  ),
  http.post("http://hooks.test/alert", async ({ request }) => {
    fake.hookAttempts++;
    if (fake.hookAttempts <= fake.hookFailFirst) return new HttpResponse("down", { status: 500 });
    fake.hooks.push((await request.json()) as (typeof fake.hooks)[number]);
    return new HttpResponse(null, { status: 204 });
  }),
  http.post("http://data.test/api/logs/batch", async ({ request }) => {
    if (request.headers.get("authorization") !== "Bearer test-data-service-key") {
      return HttpResponse.json({ error: { code: "unauthorized", message: "bad key" } }, { status: 401 });
    }
    const body = (await request.json()) as { logs: { id: string }[] };
    fake.calls.push(body.logs.map((l) => l.id));
    if (fake.failure === "503")
      return HttpResponse.json({ error: { code: "upstream_unavailable", message: "down" } }, { status: 503 });
    if (fake.failure === "refused") return HttpResponse.error();
    if (fake.failure === "timeout") {
      await delay(2_000);
      return HttpResponse.json({ stored: 0, duplicates: 0 });
    }
    const refused = body.logs.filter((l) => fake.refuseIds.has(l.id));
    if (refused.length > 0) {
      return HttpResponse.json(
        { error: { code: "invalid_request", message: `refused ${refused.map((r) => r.id).join(",")}` } },
        { status: 400 },
      );
    }
    let stored = 0;
    let duplicates = 0;
    for (const l of body.logs) {
      if (fake.stored.has(l.id)) duplicates++;
      else stored++;
      fake.stored.set(l.id, 1);
    }
    if (fake.failure === "hold") {
      // stored; the answer waits until the test releases it (or the logger times out)
      await delay(250);
    }
    if (fake.failure === "slow-accept") {
      // stored, but the answer comes after the logger's timeout: it must retry, and the retry dedupes
      await delay(1_000);
    }
    return HttpResponse.json({ stored, duplicates });
  }),
);

beforeAll(() => server.listen({ onUnhandledRequest: "bypass" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());
