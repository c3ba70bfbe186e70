// The OpenAPI document GET /openapi.json serves, validated as OpenAPI 3.1 by
// @seriousme/openapi-schema-validator. It runs here in Node because the validator compiles JSON
// Schema with `new Function`, which workerd forbids; test/workers/openapi.test.ts checks the
// route serves this same document.
import { type SpecData, Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../src/http/openapi.js";

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; in: string }[]; requestBody?: unknown; security?: unknown[] }>
  >;
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
};

describe("buildOpenApiDocument", () => {
  const doc = buildOpenApiDocument() as Doc;

  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as SpecData);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("describes the contract's routes", () => {
    for (const [path, method] of [
      ["/api/logs", "post"],
      ["/api/logs/batch", "post"],
      ["/v1/logs", "post"],
      ["/api/logs/search", "get"],
      ["/api/logs/{id}", "get"],
      ["/api/services/{service}/error-rate", "get"],
      ["/metrics", "get"],
      ["/health", "get"],
      ["/openapi.json", "get"],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    expect(doc.paths["/health"].get.security).toEqual([]);
  });

  it("generates schemas from the zod validators, references resolving", () => {
    const entry = doc.components.schemas.LogEntryInput;
    expect(entry.required).toEqual(["level", "message", "service"]);
    expect(Object.keys(entry.properties!)).toEqual(
      expect.arrayContaining(["id", "timestamp", "metadata", "context", "stack_trace", "category", "priority"]),
    );
    expect(doc.paths["/api/logs/search"].get.parameters!.map((p) => p.name)).toEqual(
      expect.arrayContaining(["service", "level", "q", "limit", "cursor", "order"]),
    );
    const text = JSON.stringify(doc);
    const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((r) => !doc.components.schemas[r])).toEqual([]);
    expect(text).not.toContain("$defs"); // nothing refers outside components
  });
});
