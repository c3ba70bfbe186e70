// GET /openapi.json: served without a key, the document buildOpenApiDocument() generates from
// the zod schemas. Its OpenAPI 3.1 validity is checked in test/unit/openapi.test.ts (the
// validator compiles schemas with `new Function`, which workerd does not allow).
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../src/http/openapi.js";
import { call } from "./helpers.js";

describe("GET /openapi.json", () => {
  it("serves the generated OpenAPI 3.1 document without a key", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/logs", "/metrics", "/api/logs/batch"]));
  });
});
