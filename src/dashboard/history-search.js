// History search for the dashboard (served as /assets/history-search.js): how the free-text box
// becomes searches, and a merged, paged reader over several GET /api/logs/search queries.
// No DOM here; tested in Node (test/e2e/dashboard-logic.e2e.test.ts).
//
// The search API has `q` (substring of the message) and exact filters for the id fields. The text
// box means:
//   - `request_id:abc` (or user_id:, session_id:, trace_id:): only that exact field;
//   - text that looks like an id (one token, no spaces): the message search AND an exact search
//     on each id field, merged newest first, each row showing which field(s) matched;
//   - anything else: the message search only.
// A server that does not know a field (answers 400 naming it) is skipped for the implicit id
// searches and reported; an explicit `field:value` search shows the server's error instead.

export const ID_FIELDS = ["request_id", "user_id", "session_id", "trace_id"];

/** One token of id-ish characters, the length the search API accepts for an id filter. */
const ID_LIKE = /^[A-Za-z0-9._:@/+=-]{3,256}$/;
const FIELD_VALUE = /^(request_id|user_id|session_id|trace_id):(\S{1,256})$/;

export function looksLikeId(text) {
  return ID_LIKE.test(text) && /[0-9_-]/.test(text);
}

/**
 * What to ask for: `[{ field, params, optional }]`, where `field` is the label shown on a match
 * ("message" or an id field). Empty text → one unfiltered search.
 */
export function planSearches(text) {
  const t = String(text || "").trim();
  if (!t) return [{ field: "", params: {}, optional: false }];
  const fv = FIELD_VALUE.exec(t);
  if (fv) return [{ field: fv[1], params: { [fv[1]]: fv[2] }, optional: false }];
  const plans = [{ field: "message", params: { q: t.slice(0, 1024) }, optional: false }];
  if (looksLikeId(t)) for (const f of ID_FIELDS) plans.push({ field: f, params: { [f]: t }, optional: true });
  return plans;
}

/**
 * Client-side version of the same match, for the live tail (whose server filter only knows `q`):
 * which fields of `log` match the text; [] when none.
 */
export function matchFields(log, text) {
  const t = String(text || "").trim();
  if (!t) return [""];
  const fv = FIELD_VALUE.exec(t);
  if (fv) return log[fv[1]] === fv[2] ? [fv[1]] : [];
  const out = String(log.message ?? "").includes(t) ? ["message"] : [];
  if (looksLikeId(t)) for (const f of ID_FIELDS) if (log[f] === t) out.push(f);
  return out;
}

/** A per-search error the caller may show: `{ status, code, message, path }`. */
export class SearchError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code || "http_error";
    this.path = body?.error?.details?.[0]?.path;
  }
}

/** Guards against a server that keeps answering empty pages with a cursor (scan budgets). */
const MAX_FETCHES_PER_PAGE = 25;

/**
 * Merges several searches (each newest first, each with its own cursor) into one stream of pages,
 * newest first, without duplicates. `fetchPage(params, cursor)` resolves to `{ logs, next_cursor }`
 * or throws a SearchError. A row is `{ log, matched: [field...] }`; when a later page finds an
 * entry already shown through another field, that row is returned in `updated` with the field
 * added. At most `maxRows` rows are kept (then `capped` is true and the search stops).
 */
export class MergedSearch {
  constructor(plans, fetchPage, { pageSize = 100, maxRows = 2000 } = {}) {
    this.sources = plans.map((p) => ({ ...p, buf: [], cursor: null, started: false, done: false }));
    this.fetchPage = fetchPage;
    this.pageSize = pageSize;
    this.maxRows = maxRows;
    this.rows = new Map(); // id → row, bounded by maxRows
    this.skipped = []; // { field, message } of optional searches the server refused
    this.capped = false;
  }

  get done() {
    return this.capped || this.sources.every((s) => s.done && s.buf.length === 0);
  }

  async #fill(s) {
    try {
      const page = await this.fetchPage(s.params, s.started ? s.cursor : null);
      s.started = true;
      s.buf.push(...(page.logs || []));
      s.cursor = page.next_cursor || null;
      if (!s.cursor) s.done = true;
    } catch (err) {
      if (!s.optional || !(err instanceof SearchError) || err.status !== 400) throw err;
      s.done = true;
      s.buf = [];
      this.skipped.push({ field: s.field, message: err.message });
    }
  }

  /** The next page: `{ rows, updated }` (rows are new, newest first). */
  async next() {
    const rows = [];
    const updated = [];
    let fetches = 0;
    while (rows.length < this.pageSize && !this.capped) {
      // Every source still running needs a buffered head before we may pick the newest one.
      const empty = this.sources.filter((s) => s.buf.length === 0 && !s.done);
      if (empty.length) {
        if (fetches >= MAX_FETCHES_PER_PAGE) break;
        fetches += empty.length;
        await Promise.all(empty.map((s) => this.#fill(s)));
        continue;
      }
      let best = null;
      for (const s of this.sources) if (s.buf.length && (!best || s.buf[0].timestamp > best.buf[0].timestamp)) best = s;
      if (!best) break;
      const log = best.buf.shift();
      const seen = this.rows.get(log.id);
      if (seen) {
        if (!seen.matched.includes(best.field)) {
          seen.matched.push(best.field);
          if (!rows.includes(seen) && !updated.includes(seen)) updated.push(seen);
        }
        continue;
      }
      const row = { log, matched: best.field ? [best.field] : [] };
      this.rows.set(log.id, row);
      rows.push(row);
      if (this.rows.size >= this.maxRows) this.capped = true;
    }
    return { rows, updated };
  }
}
