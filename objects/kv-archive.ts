// KV-only phase: rows an aggregator trimmed from SQLite live in KV chunks (written by the flush,
// indexed in kv_chunks / archived_ids). A search reads the chunks that can hold rows of its page,
// newest (or oldest) first, and stops as soon as no further chunk can compete with the page.
import { comparePositions } from "../src/core/cursor.js";
import { matchesFilter } from "../src/core/log-filter.js";
import type { StoredLogEntry } from "../src/schema/log-entry.js";
import type { AggregatorSearch } from "../src/schema/query.js";

/** At most this many archived chunks are read for one search page. */
export const MAX_CHUNKS_PER_SEARCH = 50;

/** Merges archived rows into `hot` (the aggregator's own page): one page of `source`'s rows. */
export async function searchKvChunks(
  sql: SqlStorage,
  kv: KVNamespace,
  source: string,
  search: AggregatorSearch,
  hot: StoredLogEntry[],
): Promise<StoredLogEntry[]> {
  const desc = search.order === "desc";
  const f = search.filter;
  const chunks = sql
    .exec<{ key: string; min_ts: number; max_ts: number }>(
      `SELECT key, min_ts, max_ts FROM kv_chunks c
       WHERE EXISTS (SELECT 1 FROM archived_ids a WHERE a.chunk = c.key)
         AND max_ts >= ? AND min_ts <= ?
       ORDER BY ${desc ? "max_ts DESC" : "min_ts ASC"} LIMIT ?`,
      f.startTime ?? 0,
      f.endTime ?? Number.MAX_SAFE_INTEGER,
      MAX_CHUNKS_PER_SEARCH,
    )
    .toArray();
  const pos = (e: StoredLogEntry) => ({ ts: e.timestamp, k: source, seq: e.seq ?? 0 });
  const byId = new Map(hot.map((e) => [e.id, e]));
  let merged = hot;
  for (const c of chunks) {
    const worst = merged.length >= search.limit ? merged[search.limit - 1] : undefined;
    if (worst && (desc ? c.max_ts < worst.timestamp : c.min_ts > worst.timestamp)) break;
    const rows = (await kv.get<StoredLogEntry[]>(c.key, "json")) ?? [];
    for (const e of rows) {
      if (byId.has(e.id) || !matchesFilter(e, f)) continue;
      if (
        search.after &&
        comparePositions(pos(e), { ts: search.after.ts, k: source, seq: search.after.seq }, search.order) <= 0
      )
        continue;
      byId.set(e.id, e);
      merged.push(e);
    }
    merged = merged.sort((a, b) => comparePositions(pos(a), pos(b), search.order)).slice(0, search.limit);
  }
  return merged;
}

/** Get-by-id for a row trimmed in the KV-only phase: its chunk is found through archived_ids. */
export async function findArchived(sql: SqlStorage, kv: KVNamespace, id: string): Promise<StoredLogEntry | null> {
  const archived = sql.exec<{ chunk: string }>("SELECT chunk FROM archived_ids WHERE id = ?", id).toArray()[0];
  if (!archived) return null;
  const chunk = await kv.get<StoredLogEntry[]>(archived.chunk, "json");
  return chunk?.find((e) => e.id === id) ?? null;
}
