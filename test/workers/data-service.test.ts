// Runs the §4 contract suite inside workerd against the reference data service, which vitest
// starts as the auxiliary worker "edge-logger-data" (built by npm run build:data-service) and
// the logger reaches through its DATA_SERVICE service binding.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { defineDataServiceContract } from "../contract/data-service-contract.js";

const API_KEY = "test-data-service-key"; // vitest.config.ts gives both workers this key

function dataService(): Fetcher {
  const binding = (env as unknown as { DATA_SERVICE?: Fetcher }).DATA_SERVICE;
  if (!binding) throw new Error('DATA_SERVICE binding missing: wrangler.toml [[services]] binding = "DATA_SERVICE"');
  return binding;
}

defineDataServiceContract(
  () => (path, init) => dataService().fetch(new Request(`http://data-service.test${path}`, init)),
  API_KEY,
);

describe("reference data service specifics", () => {
  it("answers /health without a key", async () => {
    const res = await dataService().fetch("http://data-service.test/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok" });
  });

  it("answers unknown routes with a JSON 404", async () => {
    const res = await dataService().fetch("http://data-service.test/api/nope", {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });
});

describe("reference data service configuration", () => {
  it("answers 500 invalid_config naming DATA_SERVICE_API_KEY when the key is not set", async () => {
    const { buildDataApp } = await import("../../data-service/src/app.js");
    const db = (env as unknown as { DB: D1Database }).DB;
    const res = await buildDataApp().fetch(
      new Request("http://data-service.test/api/logs/search", { headers: { authorization: "Bearer anything" } }),
      { DB: db },
    );
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("invalid_config");
    expect(body.error.message).toContain("DATA_SERVICE_API_KEY");
  });

  it("refuses a summary whose time_bucket would give more than 10000 points", async () => {
    const res = await dataService().fetch(
      `http://data-service.test/api/logs/analytics/summary?start_time=1736121600000&end_time=${1736121600000 + 30 * 86_400_000}&time_bucket=1m`,
      {
        headers: { authorization: `Bearer ${API_KEY}` },
      },
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { details: { path: string }[] } }).error.details[0]!.path).toBe(
      "time_bucket",
    );
  });
});
