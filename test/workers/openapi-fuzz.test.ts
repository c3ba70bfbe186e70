// Schemathesis-style checks in CI: walk /openapi.json, generate requests for every operation from
// its own schemas with fast-check (valid ones, and invalid ones: a wrong type, a missing required
// field, junk bodies and parameters), send them to the Worker, and require that every answer is a
// status the document lists for that operation, never a 5xx (503 only where documented as a
// breach), and that every JSON error is the contract's error body. Bounded: RUNS requests per
// operation and kind, generated values kept small, services drawn from a few fixed names so the
// run creates only a handful of Durable Objects.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, KEYS } from "./helpers.js";

const RUNS = 6;
// services no other test uses: a generated cleanup or check only ever touches these
const SERVICES = ["fuzz-a", "fuzz-b"];

type Schema = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  op: Schema;
}

let doc: Schema;
async function loadDoc(): Promise<Schema> {
  doc ??= await (await call("/openapi.json")).json();
  return doc;
}

function resolve(s: Schema): Schema {
  let out = s;
  while (out?.$ref) out = doc.components.schemas[String(out.$ref).split("/").pop()!];
  return out ?? {};
}

/** A fast-check arbitrary for values a JSON Schema (as zod emits it) accepts; depth-bounded. */
function arb(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  if (depth > 4) return fc.constant(null);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return fc.oneof(...alts.map((a: Schema) => arb(a, depth + 1)));
  if (s.allOf) return arb(s.allOf[0], depth + 1);
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== "null") : s.type;
  switch (type) {
    case "string": {
      if (s.format === "date-time")
        return fc
          .date({ min: new Date("2020-01-01"), max: new Date("2030-01-01"), noInvalidDate: true })
          .map((d) => d.toISOString());
      if (s.pattern) {
        // keep generated values inside the length bounds the pattern alone may not express;
        // a pattern fast-check can't generate from (lookaheads) gets a fixed valid value
        const max = s.maxLength ?? 200;
        try {
          return fc
            .stringMatching(new RegExp(s.pattern))
            .filter((v) => v.length >= (s.minLength ?? 0) && v.length <= max);
        } catch {
          return fc.constant("default");
        }
      }
      if (s.description?.includes("service") || s.title === "service") return fc.constantFrom(...SERVICES);
      return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 40) });
    }
    case "integer":
      return fc.integer({
        min: Math.max(s.minimum ?? -1e6, Number.MIN_SAFE_INTEGER),
        max: Math.min(s.maximum ?? 1e6, Number.MAX_SAFE_INTEGER),
      });
    case "number":
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case "boolean":
      return fc.boolean();
    case "array":
      return fc.array(arb(s.items ?? {}, depth + 1), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 3, 3),
      });
    case "object": {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const required = new Set<string>(s.required ?? []);
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props))
        shape[k] = k === "service" ? fc.constantFrom(...SERVICES) : arb(v, depth + 1);
      return fc.record(shape, { requiredKeys: [...required].filter((k) => k in shape) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Invalid variants of a schema's values: wrong types, a missing required key, junk. */
function invalidArb(schema: Schema): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  const junk = fc.oneof(
    fc.constant(null),
    fc.integer(),
    fc.string({ maxLength: 20 }),
    fc.constant([]),
    fc.constant({}),
  );
  if (s.type !== "object" || !s.properties) return junk;
  const required: string[] = s.required ?? [];
  return fc.oneof(
    junk,
    arb(s).chain((valid) =>
      fc.constantFrom(...Object.keys(s.properties)).chain((key) =>
        junk.map((bad) => {
          const out = { ...(valid as Record<string, unknown>) };
          if (required.includes(key) && bad === null) delete out[key];
          else out[key] = bad;
          return out;
        }),
      ),
    ),
  );
}

function operations(): Operation[] {
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, Schema>>))
    for (const [method, op] of Object.entries(ops)) out.push({ method, path, op });
  return out;
}

interface Generated {
  path: Record<string, string>;
  query: Record<string, unknown>;
  body?: unknown;
}

function requestArb(o: Operation, valid: boolean): fc.Arbitrary<Generated> {
  const params = (o.op.parameters ?? []) as Schema[];
  const pathShape: Record<string, fc.Arbitrary<unknown>> = {};
  const queryShape: Record<string, fc.Arbitrary<unknown>> = {};
  const requiredQuery: string[] = [];
  for (const p of params) {
    if (p.in === "path")
      pathShape[p.name] = p.name === "service" ? fc.constantFrom(...SERVICES, "bad name!") : arb(p.schema);
    if (p.in === "query") {
      // a generated cleanup must stay inside the fuzz services (tests share storage)
      if (p.name === "service" && o.method === "delete") requiredQuery.push("service");
      queryShape[p.name] =
        p.name === "service"
          ? fc.constantFrom(...SERVICES)
          : valid
            ? arb(p.schema)
            : fc.oneof(arb(p.schema), invalidArb(p.schema));
      if (p.required) requiredQuery.push(p.name);
    }
  }
  const bodySchema = o.op.requestBody?.content?.["application/json"]?.schema as Schema | undefined;
  // Learned patterns are deployment-wide and would label other tests' logs: only invalid learns.
  if (o.path === "/api/logs/patterns/learn") valid = false;
  return fc.record({
    path: fc.record(pathShape) as fc.Arbitrary<Record<string, string>>,
    query: fc.record(queryShape, { requiredKeys: requiredQuery }) as fc.Arbitrary<Record<string, unknown>>,
    ...(bodySchema ? { body: valid ? arb(bodySchema) : invalidArb(bodySchema) } : {}),
  });
}

async function send(o: Operation, g: Generated): Promise<Response> {
  const path = o.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(g.path[name] ?? "x")));
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(g.query))
    if (v !== undefined) qs.set(k, typeof v === "string" ? v : JSON.stringify(v));
  const url = `${path}${qs.size ? `?${qs}` : ""}`;
  return call(url, {
    method: o.method.toUpperCase(),
    key: KEYS.admin,
    ...(g.body !== undefined ? { json: g.body } : {}),
  });
}

async function checkAnswer(o: Operation, res: Response, what: string) {
  const documented = Object.keys(o.op.responses);
  const status = String(res.status);
  expect(documented, `${what} answered an undocumented ${status}`).toContain(status);
  const breach = status === "503" && o.path.endsWith("/error-rate");
  expect(res.status < 500 || breach, `${what} answered ${status}: ${await res.clone().text()}`).toBe(true);
  if (res.status >= 400 && (res.headers.get("content-type") ?? "").includes("json")) {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    expect(typeof body.error?.code, `${what}: error body`).toBe("string");
    expect(typeof body.error?.message, `${what}: error body`).toBe("string");
  } else await res.body?.cancel();
}

describe("generated requests from /openapi.json", () => {
  it("every operation answers only documented statuses, never a 5xx", { timeout: 240_000 }, async () => {
    await loadDoc();
    const ops = operations().filter((o) => !(o.method === "get" && o.path === "/")); // the dashboard page
    expect(ops.length).toBeGreaterThan(25);
    for (const o of ops) {
      for (const valid of [true, false]) {
        await fc.assert(
          fc.asyncProperty(requestArb(o, valid), async (g) => {
            const res = await send(o, g);
            await checkAnswer(o, res, `${o.method.toUpperCase()} ${o.path} ${JSON.stringify(g).slice(0, 300)}`);
          }),
          { numRuns: RUNS, seed: 16, endOnFailure: true },
        );
      }
    }
  });

  it("documents what the routes answer: 201 for a check, learn's own shape, typed query parameters", async () => {
    await loadDoc();
    const post = doc.paths["/api/checks"].post.responses;
    expect(Object.keys(post)).toContain("201");
    const learn = resolve(
      doc.paths["/api/logs/patterns/learn"].post.responses["200"].content["application/json"].schema,
    );
    expect(Object.keys(learn.properties).sort()).toEqual(["learned", "patterns", "total"]);
    const search = doc.paths["/api/logs/search"].get.parameters as Schema[];
    expect(search.find((p) => p.name === "limit")!.schema).toMatchObject({
      type: "integer",
      minimum: 1,
      maximum: 1000,
    });
    // only ingest's failures carry per-entry results
    const batch400 = doc.paths["/api/logs/batch"].post.responses["400"].content["application/json"].schema;
    expect(batch400.allOf).toHaveLength(2);
    const search400 = doc.paths["/api/logs/search"].get.responses["400"].content["application/json"].schema;
    expect(search400).toEqual({ $ref: "#/components/schemas/Error" });
    expect(Object.keys(doc.paths["/api/tail"].get.responses)).toContain("426");
    expect(Object.keys(doc.paths["/api/logs/{id}"].get.responses)).toContain("404");
  });
});
