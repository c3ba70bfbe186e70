// Patterns over D1: learn (upsert by id), analytics with trends, analyze flags, similar.
// Frequencies and trends are counted from the logs' pattern_id; the patterns table adds the
// template, name, type, severity, category and the all-time first/last seen the logger reports.
import {
  autoBucket,
  ANALYZE_RULES,
  type AnalyzePatternsRequest,
  DEFAULT_MIN_SIMILARITY,
  isSpiking,
  MAX_TREND_BUCKETS,
  type PatternsAnalyticsQuery,
  resolveRange,
  type SimilarPatternsQuery,
  TIME_BUCKET_MS,
} from "../../src/schema/analytics.js";
import type {
  AnalyzePatternsResponse,
  LearnPatternsResponse,
  PatternsAnalyticsResponse,
  SimilarPatternsResponse,
} from "../../src/schema/data-service.js";
import { ApiError } from "../../src/errors.js";
import {
  derivePatternId,
  type LearnPatternInput,
  type Pattern,
  type PatternType,
  type Severity,
} from "../../src/schema/pattern.js";
import { similarity, tokens } from "./similarity.js";

type PatternRow = {
  id: string;
  pattern: string;
  name: string | null;
  type: string;
  severity: string;
  category: string | null;
  frequency: number;
  first_seen: number;
  last_seen: number;
  services: string;
};

function rowToPattern(r: PatternRow): Pattern {
  const p: Pattern = {
    id: r.id,
    pattern: r.pattern,
    type: r.type as PatternType,
    frequency: r.frequency,
    first_seen: r.first_seen,
    last_seen: r.last_seen,
    services: (JSON.parse(r.services) as string[]).sort(),
    severity: r.severity as Severity,
  };
  if (r.name !== null) p.name = r.name;
  if (r.category !== null) p.category = r.category as Pattern["category"];
  return p;
}

const json = (v: unknown) => JSON.stringify(v);

// ---------------------------------------------------------------------------------------------
// learn

/**
 * Upsert by id (derived from the text when absent). On an existing id: the template, type and
 * severity are replaced (a template generalises but keeps its id), name/category only when
 * sent, frequency = max(stored, sent) and first/last seen widen, so a retried or repeated learn
 * of cumulative counts is idempotent; services are the union.
 */
const UPSERT_SQL = `INSERT INTO patterns (id, pattern, name, type, severity, category, frequency, first_seen, last_seen, services, updated_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, COALESCE(?8, ?11), COALESCE(?9, ?11), ?10, ?11)
  ON CONFLICT(id) DO UPDATE SET
    pattern = excluded.pattern,
    name = COALESCE(excluded.name, patterns.name),
    type = excluded.type,
    severity = excluded.severity,
    category = COALESCE(excluded.category, patterns.category),
    frequency = MAX(patterns.frequency, excluded.frequency),
    first_seen = MIN(patterns.first_seen, COALESCE(?8, patterns.first_seen)),
    last_seen = MAX(patterns.last_seen, COALESCE(?9, patterns.last_seen)),
    services = (SELECT json_group_array(value) FROM (SELECT value FROM json_each(patterns.services) UNION SELECT value FROM json_each(?10) ORDER BY value)),
    updated_at = excluded.updated_at`;

export async function learnPatterns(
  db: D1Database,
  input: LearnPatternInput[],
  nowMs: number,
): Promise<LearnPatternsResponse> {
  // One entry per id; a repeated id in one request merges like two learns in a row.
  const byId = new Map<string, LearnPatternInput & { id: string }>();
  for (const p of input) {
    const id = p.id ?? derivePatternId(p.pattern);
    const prev = byId.get(id);
    if (!prev) {
      byId.set(id, { ...p, id });
      continue;
    }
    byId.set(id, {
      ...prev,
      ...p,
      id,
      name: p.name ?? prev.name,
      category: p.category ?? prev.category,
      frequency: Math.max(prev.frequency ?? 0, p.frequency ?? 0),
      first_seen: minDefined(prev.first_seen, p.first_seen),
      last_seen: maxDefined(prev.last_seen, p.last_seen),
      services: [...new Set([...(prev.services ?? []), ...(p.services ?? [])])],
    });
  }
  const ids = [...byId.keys()];
  const existing = await db
    .prepare("SELECT id FROM patterns WHERE id IN (SELECT value FROM json_each(?))")
    .bind(json(ids))
    .all<{ id: string }>();
  const known = new Set(existing.results.map((r) => r.id));
  const stmt = db.prepare(UPSERT_SQL);
  const writes = [...byId.values()].map((p) =>
    stmt.bind(
      p.id,
      p.pattern,
      p.name ?? null,
      p.type,
      p.severity,
      p.category ?? null,
      p.frequency ?? 0,
      p.first_seen ?? null,
      p.last_seen ?? null,
      json([...new Set(p.services ?? [])].sort()),
      nowMs,
    ),
  );
  const read = db.prepare("SELECT * FROM patterns WHERE id IN (SELECT value FROM json_each(?))").bind(json(ids));
  const results = await db.batch<PatternRow>([...writes, read]);
  const rows = new Map(results[results.length - 1]!.results.map((r) => [r.id, rowToPattern(r)]));
  return {
    created: ids.filter((id) => !known.has(id)).length,
    updated: ids.filter((id) => known.has(id)).length,
    patterns: ids.map((id) => rows.get(id)!),
  };
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

// ---------------------------------------------------------------------------------------------
// analytics and analyze: shared counting

type Bucketing =
  /** clock-aligned buckets of `ms` (time = ts - ts % ms), zero-filled from start to end */
  | { kind: "aligned"; ms: number }
  /** `n` equal buckets over [start, start + span) */
  | { kind: "equal"; n: number };

interface StatsRequest {
  start: number;
  end: number;
  /** true: timestamp <= end (analytics); false: timestamp < end (analyze's half-open range) */
  endInclusive: boolean;
  services?: string[];
  minFrequency: number;
  limit: number;
  bucketing: Bucketing;
}

type FreqRow = { pattern_id: string; frequency: number; services: string; top_level: number; sample: string };

const LEVEL_RANK_SQL = "MAX(CASE level WHEN 'error' THEN 3 WHEN 'warn' THEN 2 ELSE 1 END)";

function typeFromRank(rank: number): PatternType {
  return rank >= 3 ? "error" : rank === 2 ? "warning" : "info";
}
const SEVERITY_OF_TYPE: Record<PatternType, Severity> = { error: "high", warning: "medium", info: "low" };

interface Counted {
  pattern: Pattern & { trend: { time: number; count: number }[] };
}

/**
 * Patterns with at least `minFrequency` entries in the range (and, when minFrequency is 0,
 * learned patterns without any), each with its frequency in range, all-time first/last seen
 * and a zero-filled trend. Patterns whose template is identical are merged (contract §2).
 */
async function countPatterns(db: D1Database, r: StatsRequest): Promise<Counted[]> {
  const where = ["pattern_id IS NOT NULL", "timestamp >= ?", r.endInclusive ? "timestamp <= ?" : "timestamp < ?"];
  const params: (string | number)[] = [r.start, r.end];
  if (r.services?.length) {
    where.push("service IN (SELECT value FROM json_each(?))");
    params.push(json(r.services));
  }
  const whereSql = where.join(" AND ");
  // Over-fetch: merging identical templates can fold several ids into one pattern.
  const fetchLimit = Math.min(r.limit * 4, 5000);
  const freq = await db
    .prepare(
      `SELECT pattern_id, COUNT(*) AS frequency, json_group_array(DISTINCT service) AS services, ${LEVEL_RANK_SQL} AS top_level, MIN(message) AS sample
       FROM logs WHERE ${whereSql} GROUP BY pattern_id HAVING COUNT(*) >= ? ORDER BY frequency DESC, pattern_id ASC LIMIT ?`,
    )
    .bind(...params, Math.max(r.minFrequency, 1), fetchLimit)
    .all<FreqRow>();
  const freqRows = freq.results;
  let ids = freqRows.map((f) => f.pattern_id);
  let zeroRows: PatternRow[] = [];
  if (r.minFrequency === 0) {
    const extra = await db
      .prepare("SELECT * FROM patterns WHERE id NOT IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT ?")
      .bind(json(ids), fetchLimit)
      .all<PatternRow>();
    // Under a service filter, a pattern without logs in range is listed only when every service
    // it names is in the filter: its all-time first/last seen would describe other services.
    zeroRows = extra.results.filter((p) => {
      if (!r.services?.length) return true;
      const named = JSON.parse(p.services) as string[];
      return named.length > 0 && named.every((s) => r.services!.includes(s));
    });
    ids = [...ids, ...zeroRows.map((p) => p.id)];
  }
  if (ids.length === 0) return [];

  const bucketExpr =
    r.bucketing.kind === "aligned" ? "(timestamp - (timestamp % ?))" : "CAST(((timestamp - ?) * ?) / ? AS INTEGER)";
  const bucketParams: number[] =
    r.bucketing.kind === "aligned" ? [r.bucketing.ms] : [r.start, r.bucketing.n, r.end - r.start];
  const [patternRows, seen, trend] = await db.batch<Record<string, unknown>>([
    db.prepare("SELECT * FROM patterns WHERE id IN (SELECT value FROM json_each(?))").bind(json(ids)),
    // First/last seen over all time, but only in the filtered services: a key limited to `a`
    // must not learn when `b` last logged a shared pattern (issue 16, item 4).
    r.services?.length
      ? db
          .prepare(
            "SELECT pattern_id, MIN(timestamp) AS first_ts, MAX(timestamp) AS last_ts FROM logs WHERE pattern_id IN (SELECT value FROM json_each(?)) AND service IN (SELECT value FROM json_each(?)) GROUP BY pattern_id",
          )
          .bind(json(ids), json(r.services))
      : db
          .prepare(
            "SELECT pattern_id, MIN(timestamp) AS first_ts, MAX(timestamp) AS last_ts FROM logs WHERE pattern_id IN (SELECT value FROM json_each(?)) GROUP BY pattern_id",
          )
          .bind(json(ids)),
    db
      .prepare(
        `SELECT pattern_id, ${bucketExpr} AS bucket, COUNT(*) AS n FROM logs WHERE ${whereSql} AND pattern_id IN (SELECT value FROM json_each(?)) GROUP BY 1, 2`,
      )
      .bind(...bucketParams, ...params, json(ids)),
  ]);
  const rowsById = new Map((patternRows!.results as PatternRow[]).map((p) => [p.id, p]));
  const seenById = new Map(
    (seen!.results as { pattern_id: string; first_ts: number; last_ts: number }[]).map((s) => [s.pattern_id, s]),
  );

  // Trend axis: aligned buckets from start to end, or n equal buckets.
  const axis: number[] = [];
  if (r.bucketing.kind === "aligned") {
    const ms = r.bucketing.ms;
    for (let t = r.start - (r.start % ms); t <= r.end; t += ms) axis.push(t);
  } else {
    for (let i = 0; i < r.bucketing.n; i++) axis.push(r.start + Math.floor((i * (r.end - r.start)) / r.bucketing.n));
  }
  const indexOf = (bucket: number) => (r.bucketing.kind === "aligned" ? axis.indexOf(bucket) : bucket);
  const counts = new Map<string, number[]>();
  for (const t of trend!.results as { pattern_id: string; bucket: number; n: number }[]) {
    let arr = counts.get(t.pattern_id);
    if (!arr) counts.set(t.pattern_id, (arr = axis.map(() => 0)));
    const i = indexOf(Number(t.bucket));
    if (i >= 0 && i < arr.length) arr[i]! += Number(t.n);
  }

  const build = (id: string, f?: FreqRow): Counted["pattern"] => {
    const row = rowsById.get(id);
    const s = seenById.get(id);
    const type = row ? (row.type as PatternType) : typeFromRank(f?.top_level ?? 1);
    const filter = r.services?.length ? new Set(r.services) : undefined;
    const services = new Set<string>(
      [
        ...(row ? (JSON.parse(row.services) as string[]) : []),
        ...(f ? (JSON.parse(f.services) as string[]) : []),
      ].filter((name) => !filter || filter.has(name)),
    );
    // The row's first/last seen span every service: used unfiltered, or when the row names only
    // filtered services; otherwise only the filtered logs speak.
    const rowSpeaks = row && (!filter || (JSON.parse(row.services) as string[]).every((name) => filter.has(name)));
    const p: Counted["pattern"] = {
      id,
      pattern: row?.pattern ?? f?.sample ?? "",
      type,
      frequency: f?.frequency ?? 0,
      first_seen: Math.min((rowSpeaks ? row?.first_seen : undefined) ?? Infinity, s?.first_ts ?? Infinity),
      last_seen: Math.max((rowSpeaks ? row?.last_seen : undefined) ?? -Infinity, s?.last_ts ?? -Infinity),
      services: [...services].sort(),
      severity: row ? (row.severity as Severity) : SEVERITY_OF_TYPE[type],
      trend: (counts.get(id) ?? axis.map(() => 0)).map((count, i) => ({ time: axis[i]!, count })),
    };
    if (row?.name != null) p.name = row.name;
    if (row?.category != null) p.category = row.category as Pattern["category"];
    return p;
  };
  const all = [...freqRows.map((f) => build(f.pattern_id, f)), ...zeroRows.map((z) => build(z.id))];

  // Merge identical templates (ids minted by different shards): the most frequent id leads.
  const byTemplate = new Map<string, Counted["pattern"]>();
  for (const p of all) {
    const lead = byTemplate.get(p.pattern);
    if (!lead) {
      byTemplate.set(p.pattern, p);
      continue;
    }
    lead.frequency += p.frequency;
    lead.first_seen = Math.min(lead.first_seen, p.first_seen);
    lead.last_seen = Math.max(lead.last_seen, p.last_seen);
    lead.services = [...new Set([...lead.services, ...p.services])].sort();
    lead.trend = lead.trend.map((pt, i) => ({ time: pt.time, count: pt.count + (p.trend[i]?.count ?? 0) }));
  }
  return [...byTemplate.values()]
    .filter((p) => p.frequency >= r.minFrequency)
    .sort((a, b) => b.frequency - a.frequency || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, r.limit)
    .map((pattern) => ({ pattern }));
}

export async function patternsAnalytics(
  db: D1Database,
  q: PatternsAnalyticsQuery,
  nowMs: number,
): Promise<PatternsAnalyticsResponse> {
  const { start, end } = resolveRange(q, nowMs);
  const bucket = q.time_bucket ?? autoBucket(end - start);
  const ms = TIME_BUCKET_MS[bucket];
  const points = Math.floor(end / ms) - Math.floor(start / ms) + 1;
  if (points > MAX_TREND_BUCKETS) {
    throw new ApiError(
      "invalid_request",
      400,
      `time_bucket: ${bucket} gives ${points} trend points; at most ${MAX_TREND_BUCKETS}`,
      [{ path: "time_bucket", message: `too small for the range (at most ${MAX_TREND_BUCKETS} points)` }],
    );
  }
  const counted = await countPatterns(db, {
    start,
    end,
    endInclusive: true,
    services: q.service,
    minFrequency: q.min_frequency ?? 1,
    limit: q.limit ?? 100,
    bucketing: { kind: "aligned", ms },
  });
  return { start_time: start, end_time: end, time_bucket: bucket, patterns: counted.map((c) => c.pattern) };
}

export async function analyzePatterns(
  db: D1Database,
  req: AnalyzePatternsRequest,
  nowMs: number,
): Promise<AnalyzePatternsResponse> {
  const end = req.end_time ?? nowMs;
  const start = end - req.time_range;
  const counted = await countPatterns(db, {
    start,
    end,
    endInclusive: false,
    services: req.services,
    minFrequency: req.min_frequency,
    limit: req.limit,
    bucketing: { kind: "equal", n: req.buckets },
  });
  const newSince = end - req.time_range * ANALYZE_RULES.new_fraction;
  return {
    start_time: start,
    end_time: end,
    bucket_ms: req.time_range / req.buckets,
    rules: { ...ANALYZE_RULES },
    patterns: counted.map(({ pattern }) => ({
      ...pattern,
      new: pattern.first_seen >= newSince,
      spiking: isSpiking(pattern.trend.map((t) => t.count)),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// similar

/** Learned patterns scanned per similar query, most frequent first. */
const SIMILAR_CANDIDATES = 10_000;

export async function similarPatterns(db: D1Database, q: SimilarPatternsQuery): Promise<SimilarPatternsResponse> {
  let reference: string;
  if (q.pattern_id !== undefined) {
    const row = await db.prepare("SELECT * FROM patterns WHERE id = ?").bind(q.pattern_id).first<PatternRow>();
    if (!row) throw new ApiError("not_found", 404, `no pattern with id "${q.pattern_id}"`);
    reference = row.pattern;
  } else {
    reference = q.message!;
  }
  const ref = tokens(reference);
  const min = q.min_similarity ?? DEFAULT_MIN_SIMILARITY;
  const { results } = await db
    .prepare("SELECT * FROM patterns ORDER BY frequency DESC, id ASC LIMIT ?")
    .bind(SIMILAR_CANDIDATES)
    .all<PatternRow>();
  const scored = results
    .filter((r) => r.id !== q.pattern_id)
    .map((r) => ({ ...rowToPattern(r), similarity: similarity(ref, tokens(r.pattern)) }))
    .filter((p) => p.similarity > 0 && p.similarity >= min)
    .sort((a, b) => b.similarity - a.similarity || b.frequency - a.frequency || (a.id < b.id ? -1 : 1));
  return { patterns: scored.slice(0, q.limit ?? 10) };
}
