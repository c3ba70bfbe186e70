// The custom analytics compiler (src/core/analytics-sql.ts) and the schemas that feed it: only
// allow-listed identifiers reach the SQL text, values are always bound, and a query stays under
// the 100 bound-parameter limit of D1/SQLite.
import { describe, expect, it } from "vitest";
import { aggregateQuery, compileCustomQuery, compileFilter, MAX_BOUND_PARAMS } from "../../src/core/analytics-sql.js";
import {
  autoBucket,
  CustomAnalyticsQuery,
  type CustomAnalyticsInput,
  isSpiking,
  resolveRange,
} from "../../src/schema/analytics.js";
import { ID_RE } from "../../src/schema/log-entry.js";
import { derivePatternId, LearnPatternsRequest } from "../../src/schema/pattern.js";

const parse = (q: CustomAnalyticsInput | Record<string, unknown>) => CustomAnalyticsQuery.parse(q);
const issues = (q: unknown) => {
  const r = CustomAnalyticsQuery.safeParse(q);
  expect(r.success).toBe(false);
  return r.success ? [] : r.error.issues.map((i) => i.path.join("."));
};

describe("compileCustomQuery", () => {
  it("compiles a grouped count with a filter into parameterised SQL", () => {
    const c = compileCustomQuery(
      parse({
        filters: [{ field: "service", op: "eq", value: "api" }],
        group_by: ["level"],
        metrics: [{ op: "count" }],
      }),
    );
    expect(c.sql).toBe(
      `SELECT "level" AS "level", COUNT(*) AS "count" FROM "logs" WHERE "service" = ? GROUP BY 1 ORDER BY "count" DESC, "level" ASC LIMIT ?`,
    );
    expect(c.params).toEqual(["api", 100]);
    expect(c.columns).toEqual(["level", "count"]);
  });

  it("puts the time bucket first, binds its size and orders by time by default", () => {
    const c = compileCustomQuery(
      parse({ time_bucket: "5m", group_by: ["service"], metrics: [{ op: "avg", field: "priority" }], limit: 10 }),
    );
    expect(c.sql).toBe(
      `SELECT ("timestamp" - ("timestamp" % ?)) AS "time", "service" AS "service", AVG("priority") AS "avg_priority" FROM "logs" GROUP BY 1, 2 ORDER BY "time" ASC, "service" ASC LIMIT ?`,
    );
    expect(c.params).toEqual([300_000, 10]);
    expect(c.columns).toEqual(["time", "service", "avg_priority"]);
  });

  it("compiles every metric op", () => {
    const c = compileCustomQuery(
      parse({
        metrics: [
          { op: "count" },
          { op: "count", field: "user_id" },
          { op: "count_distinct", field: "session_id" },
          { op: "min", field: "timestamp" },
          { op: "max", field: "received_at" },
          { op: "avg", field: "priority", as: "mean_priority" },
        ],
      }),
    );
    expect(c.sql).toBe(
      `SELECT COUNT(*) AS "count", COUNT("user_id") AS "count_user_id", COUNT(DISTINCT "session_id") AS "count_distinct_session_id", MIN("timestamp") AS "min_timestamp", MAX("received_at") AS "max_received_at", AVG("priority") AS "mean_priority" FROM "logs" LIMIT ?`,
    );
  });

  it("compiles every filter op with bound values", () => {
    const cases: [unknown, string, unknown[]][] = [
      [{ field: "level", op: "eq", value: "error" }, `"level" = ?`, ["error"]],
      [{ field: "category", op: "eq", value: null }, `"category" IS NULL`, []],
      [{ field: "category", op: "neq", value: "auth" }, `"category" IS NOT ?`, ["auth"]],
      [{ field: "category", op: "neq", value: null }, `"category" IS NOT NULL`, []],
      [
        { field: "service", op: "in", value: ["a", "b", "a"] },
        `"service" IN (SELECT value FROM json_each(?))`,
        ['["a","b"]'],
      ],
      [{ field: "priority", op: "gt", value: 2 }, `"priority" > ?`, [2]],
      [{ field: "timestamp", op: "gte", value: "2025-01-06T00:00:00Z" }, `"timestamp" >= ?`, [Date.UTC(2025, 0, 6)]],
      [{ field: "received_at", op: "lt", value: 1_800_000_000_000 }, `"received_at" < ?`, [1_800_000_000_000]],
      [{ field: "priority", op: "lte", value: 3 }, `"priority" <= ?`, [3]],
      [
        { field: "message", op: "contains", value: "50%_off\\" },
        `instr(lower("message"), lower(?)) > 0`,
        ["50%_off\\"],
      ],
      [{ field: "request_id", op: "prefix", value: "req_" }, `instr(lower("request_id"), lower(?)) = 1`, ["req_"]],
    ];
    for (const [filter, sql, params] of cases) {
      const q = parse({ filters: [filter as never] });
      expect(compileFilter(q.filters[0]!), JSON.stringify(filter)).toEqual({ sql, params });
    }
  });

  it("never puts a value into the SQL text", () => {
    const evil = `x' OR 1=1; DROP TABLE logs; --"`;
    const c = compileCustomQuery(
      parse({
        filters: [
          { field: "message", op: "eq", value: evil },
          { field: "user_id", op: "in", value: [evil] },
          { field: "domain", op: "contains", value: evil },
        ],
      }),
    );
    expect(c.sql).not.toContain("DROP");
    expect(c.sql).not.toContain("1=1");
    expect(c.params[0]).toBe(evil);
  });

  it("sends an `in` list as one parameter, so 50 filters of 100 values stay under 100 parameters", () => {
    const values = Array.from({ length: 100 }, (_, i) => `v${i}`);
    const q = parse({
      filters: Array.from({ length: 50 }, () => ({ field: "service" as const, op: "in" as const, value: values })),
      time_bucket: "1m",
    });
    const c = compileCustomQuery(q);
    expect(c.params.length).toBe(52);
    expect(c.params.length).toBeLessThanOrEqual(MAX_BOUND_PARAMS);
  });

  it("throws rather than emit a statement with more than 100 parameters", () => {
    const q = parse({});
    const many = {
      ...q,
      filters: Array.from({ length: 100 }, () => ({ field: "level" as const, op: "eq" as const, value: "error" })),
    };
    expect(() => compileCustomQuery(many)).toThrow(/bound parameters/);
  });

  it("refuses identifiers that bypassed the schema", () => {
    const q = parse({});
    expect(() => compileCustomQuery({ ...q, group_by: ["password" as never] })).toThrow(/allow-listed/);
    expect(() => compileCustomQuery({ ...q, metrics: [{ op: "count", as: 'x"; DROP TABLE logs; --' }] })).toThrow(
      /not allowed/,
    );
    expect(() => compileCustomQuery({ ...q, order_by: [{ field: "nope", direction: "asc" }] })).toThrow(/order_by/);
  });

  it("follows an explicit order_by, then breaks ties on time and group fields", () => {
    const c = compileCustomQuery(
      parse({
        group_by: ["service", "level"],
        time_bucket: "1h",
        metrics: [{ op: "count" }],
        order_by: [
          { field: "count", direction: "desc" },
          { field: "level", direction: "desc" },
        ],
      }),
    );
    expect(c.sql).toContain(`ORDER BY "count" DESC, "level" DESC, "time" ASC, "service" ASC LIMIT ?`);
  });

  it("builds the aggregate route's query from group_by, bucket and range", () => {
    const c = compileCustomQuery(
      aggregateQuery(["service", "level"], "1h", { start: 1, end: 2, service: ["a"], level: ["error"] }, 10_001),
    );
    expect(c.sql).toBe(
      `SELECT ("timestamp" - ("timestamp" % ?)) AS "time", "service" AS "service", "level" AS "level", COUNT(*) AS "count" FROM "logs" WHERE "timestamp" >= ? AND "timestamp" <= ? AND "service" IN (SELECT value FROM json_each(?)) AND "level" IN (SELECT value FROM json_each(?)) GROUP BY 1, 2, 3 ORDER BY "time" ASC, "service" ASC, "level" ASC LIMIT ?`,
    );
    expect(c.params).toEqual([3_600_000, 1, 2, '["a"]', '["error"]', 10_001]);
  });

  it("matches text without LIKE, so a needle longer than LIKE's 50-byte pattern limit is fine", () => {
    const needle = "a".repeat(1024);
    const c = compileFilter({ field: "message", op: "contains", value: needle });
    expect(c.sql).not.toMatch(/LIKE|GLOB/);
    expect(c.params).toEqual([needle]); // verbatim: no wildcard escaping needed with instr()
  });
});

describe("CustomAnalyticsQuery", () => {
  it("fills defaults: no filters, no groups, count, limit 100", () => {
    expect(parse({})).toEqual({ filters: [], group_by: [], metrics: [{ op: "count", as: "count" }], limit: 100 });
  });

  it("reports each refused part with its path", () => {
    expect(issues({ filters: [{ field: "password", op: "eq", value: 1 }] })).toContain("filters.0.field");
    expect(issues({ filters: [{ field: "level", op: "like", value: "x" }] })).toContain("filters.0.op");
    expect(issues({ filters: [{ field: "priority", op: "eq", value: "high" }] })).toContain("filters.0.value");
    expect(issues({ filters: [{ field: "timestamp", op: "gt", value: 1_700_000_000 }] })).toContain("filters.0.value"); // seconds
    expect(issues({ filters: [{ field: "priority", op: "prefix", value: "1" }] })).toContain("filters.0.op");
    expect(issues({ filters: [{ field: "level", op: "in", value: [] }] })).toContain("filters.0.value");
    expect(issues({ filters: [{ field: "level", op: "in", value: Array(101).fill("x") }] })).toContain(
      "filters.0.value",
    );
    expect(issues({ filters: [{ field: "level", op: "eq", value: "x", extra: 1 }] })).toContain("filters.0");
    expect(issues({ metrics: [{ op: "sum", field: "priority" }] })).toContain("metrics.0.op");
    expect(issues({ metrics: [{ op: "avg", field: "message" }] })).toContain("metrics.0.field");
    expect(issues({ metrics: [{ op: "count_distinct" }] })).toContain("metrics.0.field");
    expect(issues({ metrics: [{ op: "count", as: "Bad Name" }] })).toContain("metrics.0.as");
    expect(issues({ metrics: [{ op: "count" }, { op: "count" }] })).toContain("metrics.1.as");
    expect(issues({ group_by: ["level"], metrics: [{ op: "count", as: "level" }] })).toContain("metrics.0.as");
    expect(issues({ group_by: ["message"] })).toContain("group_by.0");
    expect(issues({ group_by: ["level", "level"] })).toContain("group_by.1");
    expect(issues({ order_by: [{ field: "time" }] })).toContain("order_by.0.field"); // no time_bucket
    expect(issues({ time_bucket: "2h" })).toContain("time_bucket");
    expect(issues({ limit: 0 })).toContain("limit");
    expect(issues({ limit: 1.5 })).toContain("limit");
    expect(issues({ limit: 1001 })).toContain("limit");
    expect(issues({ sql: "SELECT 1" })).toEqual([""]);
  });
});

describe("analytics helpers", () => {
  it("isSpiking: last bucket at least 3x the earlier mean and at least 5", () => {
    expect(isSpiking([1, 1, 1, 3])).toBe(false); // 3 >= 3x1 but below 5
    expect(isSpiking([1, 1, 1, 6])).toBe(true);
    expect(isSpiking([0, 0, 0, 5])).toBe(true);
    expect(isSpiking([2, 2, 2, 5])).toBe(false);
    expect(isSpiking([9])).toBe(false);
  });

  it("autoBucket picks the smallest bucket giving at most 100 points", () => {
    expect(autoBucket(60 * 60_000)).toBe("1m"); // 61 points
    expect(autoBucket(3 * 3_600_000)).toBe("5m");
    expect(autoBucket(24 * 3_600_000)).toBe("15m");
    expect(autoBucket(3 * 86_400_000)).toBe("1h");
    expect(autoBucket(365 * 86_400_000)).toBe("1d");
  });

  it("resolveRange defaults to the 24 hours before now", () => {
    expect(resolveRange({}, 1_000_000_000_000)).toEqual({
      start: 1_000_000_000_000 - 86_400_000,
      end: 1_000_000_000_000,
    });
    expect(resolveRange({ end_time: 2_000_000_000_000 }, 0)).toEqual({
      start: 2_000_000_000_000 - 86_400_000,
      end: 2_000_000_000_000,
    });
  });

  it("derivePatternId is stable, distinct per text and a valid log id", () => {
    const a = derivePatternId("user <*> logged in");
    expect(a).toBe(derivePatternId("user <*> logged in"));
    expect(a).not.toBe(derivePatternId("user <*> logged out"));
    expect(a).toMatch(ID_RE);
    expect(a).toMatch(/^p_[0-9a-f]{16}$/);
  });

  it("LearnPatternsRequest accepts an optional id and ISO or ms times", () => {
    const r = LearnPatternsRequest.parse({
      patterns: [
        {
          pattern: "x <*>",
          type: "error",
          severity: "high",
          first_seen: "2025-01-06T00:00:00Z",
          last_seen: 1_800_000_000_000,
        },
      ],
    });
    expect(r.patterns[0]).toMatchObject({ first_seen: Date.UTC(2025, 0, 6), last_seen: 1_800_000_000_000 });
    expect(
      LearnPatternsRequest.safeParse({ patterns: [{ pattern: "x", type: "fatal", severity: "high" }] }).success,
    ).toBe(false);
  });
});
