// The aggregator's log store: one `segments` row per ingested batch (src/core/segment-codec.ts),
// plus what memory keeps to answer without SQL: every segment's header (seq and time ranges,
// level counts, pattern ids, bloom), an IdTable of id hashes (exact idempotency, get-by-id) and
// two byte-bounded LRUs: decoded segments (the newest serve tail replay and stats) and segment
// columns (timestamp, level, pattern, offset of each entry: a search over levels, time and
// patterns decodes only the entries of its page, sliced out of the stored body).
// Owns the `segments` table and, while a migration runs, reads the old row-per-log `logs` table
// as "legacy" segments of up to LEGACY_SEGMENT_ROWS rows (no bloom: always decoded).
import { IdTable } from "../src/core/id-table.js";
import { matchesFilter } from "../src/core/log-filter.js";
import { LRUCache } from "lru-cache";
import {
  bodyMayContain,
  columnsOfBody,
  decodeEntry,
  decodeSegment,
  type EncodedSegment,
  encodeSegments,
  entriesContaining,
  idHash,
  type SegmentColumns,
  type SegmentHead,
  packColumns,
  unpackColumns,
} from "../src/core/segment-codec.js";
import {
  columnRows,
  columnsDecide,
  entryRows,
  type SegmentPage,
  type SegmentRows,
  searchSegments,
  segmentPruner,
  seqAt,
} from "../src/core/segment-search.js";
import { LEVELS, type Level, type StoredLogEntry } from "../src/schema/log-entry.js";
import type { AggregatorSearch, LogFilter } from "../src/schema/query.js";
import * as store from "./log-store.js";

/** Rows of the old layout read (and converted) as one segment. */
export const LEGACY_SEGMENT_ROWS = 1000;

/** Bound on segment columns in memory (~17 bytes an entry: about 470k entries). */
export const COLUMN_CACHE_BYTES = 8_000_000;

/** Counts an ingest call adds besides its entries: folded into its segment row, not a row each. */
export interface SegmentExtras {
  dup?: number;
  rejected?: Record<string, number>;
}

type Head = SegmentHead & SegmentExtras;

export interface Segment {
  first: number;
  last: number;
  seqs: number[] | null;
  count: number;
  minTs: number;
  maxTs: number;
  minReceived: number;
  maxReceived: number;
  levels: number[];
  patterns: string[] | null;
  bloom: Uint8Array | null;
  head: Head | null;
  /** its counts are already in `totals` / `counter_minutes` (migrated, trimmed or rewritten) */
  folded: boolean;
  /** still rows of the old `logs` table, converted by migrateStep() */
  legacy: boolean;
  bytes: number;
}

type SegmentRow = {
  first_seq: number;
  last_seq: number;
  n: number;
  seqs: string | null;
  min_ts: number;
  max_ts: number;
  min_received: number;
  max_received: number;
  head: string;
  folded: number;
  bloom: ArrayBuffer;
  bytes: number;
};

export class SegmentStore {
  #segs: Segment[] = [];
  /** built on first use (an ingest or a get-by-id), not on start: a restart answers searches sooner */
  #idTable: IdTable | null = null;
  #cache: LRUCache<number, StoredLogEntry[]>;
  readonly #columns = new LRUCache<number, SegmentColumns>({
    maxSize: COLUMN_CACHE_BYTES,
    sizeCalculation: (c) => c.bytes,
  });
  #seqFloor = 0;
  #legacyCount = 0;
  /** received/duplicates/rejected counts of segments not yet folded into `totals` */
  readonly #live = new Map<string, number>();
  /** decoded-segment cache evictions (a bound, not a loss: the segment is read again) */
  cacheEvictedTotal = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly identity: () => { service: string; domain: string },
    maxCacheBytes: number,
  ) {
    this.#cache = this.#entryCache(maxCacheBytes);
  }

  setCacheBytes(bytes: number): void {
    if (bytes !== this.#cache.maxSize) this.#cache = this.#entryCache(bytes);
  }

  #entryCache(maxBytes: number): LRUCache<number, StoredLogEntry[]> {
    // sizes are given on set (#cachePut); a segment bigger than the bound isn't kept
    return new LRUCache<number, StoredLogEntry[]>({
      maxSize: Math.max(1, maxBytes),
      dispose: (_, __, reason) => {
        if (reason === "evict") this.cacheEvictedTotal++;
      },
    });
  }

  /** Reads every segment header (not bodies, not id hashes); called once behind the gate. */
  load(): void {
    this.#seqFloor = Number(store.getMeta(this.sql, "seq_floor") ?? 0);
    // octet_length, not length: a TEXT body's character count means reading every body from disk
    this.#segs = [];
    this.#idTable = null;
    for (const r of this.sql.exec<SegmentRow>(
      `SELECT first_seq, last_seq, n, seqs, min_ts, max_ts, min_received, max_received, head, folded, bloom,
         octet_length(body) AS bytes FROM segments ORDER BY first_seq`,
    )) {
      const seg = rowToSegment(r);
      this.#segs.push(seg);
      if (!seg.folded) this.#addLive(seg, 1);
    }
    if (store.hasLegacyLogs(this.sql)) this.#loadLegacy();
  }

  get hasLegacy(): boolean {
    return this.#legacyCount > 0;
  }

  get segmentCount(): number {
    return this.#segs.length;
  }

  /** The last seq ever handed out (segments deleted since included). */
  maxSeq(): number {
    const last = this.#segs[this.#segs.length - 1];
    return Math.max(last?.last ?? 0, this.#seqFloor);
  }

  /**
   * Appends entries (seq and pattern_id set, seqs above maxSeq(), in order) as one or more
   * segment rows. `folded`: the entries are already counted (a dead letter's replay).
   */
  append(entries: StoredLogEntry[], extras: SegmentExtras, folded = false): void {
    const encoded = encodeSegments(entries);
    let offset = 0;
    encoded.forEach((enc, i) => {
      const head: Head = i === 0 ? { ...enc.head, ...extras } : enc.head;
      this.#insert(enc, head, folded);
      const seg = encodedToSegment(enc, head, folded);
      this.#segs.push(seg);
      this.#indexIds(seg, enc.ids);
      if (!folded) this.#addLive(seg, 1);
      const part = entries.slice(offset, offset + enc.count);
      this.#cachePut(seg.first, part, enc.body.length);
      this.#columns.set(seg.first, enc.columns);
      offset += enc.count;
    });
  }

  #insert(enc: EncodedSegment, head: Head, folded: boolean): void {
    this.sql.exec(
      `INSERT INTO segments(first_seq, last_seq, n, seqs, min_ts, max_ts, min_received, max_received, head, folded,
         bloom, ids, cols, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      enc.first,
      enc.last,
      enc.count,
      enc.seqs ? JSON.stringify(enc.seqs) : null,
      enc.minTs,
      enc.maxTs,
      enc.minReceived,
      enc.maxReceived,
      JSON.stringify(head),
      folded ? 1 : 0,
      enc.bloom.buffer as ArrayBuffer,
      enc.ids.buffer as ArrayBuffer,
      packColumns(enc.columns),
      enc.body,
    );
  }

  // ---- reads ----

  /** A segment's entries, decoded once and cached; null when `q` can't match its raw text. */
  entriesOf(seg: Segment, q?: string): StoredLogEntry[] | null {
    const hit = this.#cache.get(seg.first);
    if (hit) return hit;
    const { service, domain } = this.identity();
    let entries: StoredLogEntry[];
    let bytes: number;
    if (seg.legacy) {
      const rows = store.legacyRows(this.sql, seg.first, seg.last);
      entries = rows.map((r) => store.rowToEntry(r, service, domain));
      bytes = rows.reduce((n, r) => n + r.message.length + 200, 0);
    } else {
      const body = this.#body(seg);
      if (body === undefined) return [];
      if (q !== undefined && !bodyMayContain(body.toLowerCase(), q)) return null;
      entries = decodeSegment(body, seg.first, seg.seqs, service, domain);
      bytes = body.length;
    }
    this.#cachePut(seg.first, entries, bytes);
    return entries;
  }

  search(search: AggregatorSearch, textBudget: number): SegmentPage {
    const f = search.filter;
    const byColumns = columnsDecide(f.q === undefined ? f : { ...f, q: undefined });
    return searchSegments(this.#segs, search, (s) => this.#rowsOf(s, f, byColumns), textBudget);
  }

  /** Decoded entries when cached; else columns when they decide the filter; else decoded. */
  #rowsOf(seg: Segment, f: LogFilter, byColumns: boolean): SegmentRows | null {
    const hit = this.#cache.get(seg.first);
    if (hit) return entryRows(hit, f);
    if (byColumns && !seg.legacy) {
      if (f.q !== undefined) {
        const rows = this.#textRows(seg, f);
        if (rows !== undefined) return rows;
      } else {
        const cols = this.#columnsOf(seg);
        if (cols?.starts) return columnRows(seg, cols, f, (i) => this.#entryAt(seg, cols, i));
      }
    }
    const entries = this.entriesOf(seg, f.q);
    return entries && entryRows(entries, f);
  }

  /**
   * A `q` search in one segment whose other filters columns decide: only the entries whose JSON
   * holds q are decoded, then checked against the whole filter. Null: no entry can match;
   * undefined: the offsets can't be used (decode the segment instead).
   */
  #textRows(seg: Segment, f: LogFilter): SegmentRows | null | undefined {
    const body = this.#body(seg);
    if (body === undefined) return null;
    const lower = body.toLowerCase();
    if (!bodyMayContain(lower, f.q!)) return null;
    const cols = this.#columnsOf(seg, body);
    const starts = cols?.starts;
    const holding = starts && entriesContaining(lower, body.length, starts, f.q!);
    if (!holding) return undefined;
    const { service, domain } = this.identity();
    const decoded = new Map<number, StoredLogEntry>();
    const rows = columnRows(seg, cols, { ...f, q: undefined }, (i) => decoded.get(i)!);
    return {
      ...rows,
      matches: (i) => {
        if (!holding.has(i) || !rows.matches(i)) return false;
        const e = decodeEntry(body.slice(starts[i], starts[i + 1] - 1), rows.seq(i), service, domain);
        decoded.set(i, e);
        return matchesFilter(e, f);
      },
    };
  }

  #body(seg: Segment): string | undefined {
    return this.sql.exec<{ body: string }>("SELECT body FROM segments WHERE first_seq = ?", seg.first).toArray()[0]
      ?.body;
  }

  #columnsOf(seg: Segment, read?: string): SegmentColumns | undefined {
    let cols = this.#columns.get(seg.first);
    if (cols) return cols;
    // stored with the segment; rows written before schema 3 have none: derived from the body
    const stored = this.sql
      .exec<{ cols: ArrayBuffer | null }>("SELECT cols FROM segments WHERE first_seq = ?", seg.first)
      .toArray()[0]?.cols;
    if (stored && seg.patterns) cols = unpackColumns(stored, seg.patterns);
    else {
      const body = read ?? this.#body(seg);
      if (body === undefined) return undefined;
      cols = columnsOfBody(body);
    }
    this.#columns.set(seg.first, cols);
    return cols;
  }

  /**
   * Entry i of a segment, from its JSON text alone (SQLite's substr: no body read into memory).
   * substr counts code points and the offsets count UTF-16 units, so text with characters outside
   * the BMP shifts them: a slice that doesn't parse to the entry at i falls back to decoding.
   */
  #entryAt(seg: Segment, cols: SegmentColumns, i: number): StoredLogEntry {
    const decoded = this.#cache.get(seg.first); // e.g. after a fallback below, for this segment
    if (decoded) return decoded[i];
    const starts = cols.starts!;
    const text = this.sql
      .exec<{ t: string }>(
        "SELECT substr(body, ?, ?) AS t FROM segments WHERE first_seq = ?",
        starts[i] + 1,
        starts[i + 1] - 1 - starts[i],
        seg.first,
      )
      .toArray()[0]?.t;
    if (text !== undefined) {
      const { service, domain } = this.identity();
      try {
        const e = decodeEntry(text, seqAt(seg, i), service, domain);
        if (e.timestamp === cols.ts[i]) return e;
      } catch {
        // shifted by non-BMP characters: decode the segment instead
      }
    }
    return (this.entriesOf(seg) ?? [])[i];
  }

  /** The stored entry with this id, if any (hash candidates confirmed by decoding). */
  findById(id: string): StoredLogEntry | undefined {
    for (const seq of this.#ids.lookup(idHash(id))) {
      const seg = this.#segmentOf(seq);
      if (!seg) continue;
      const e = this.entriesOf(seg)?.find((x) => x.seq === seq);
      if (e && e.id === id) return e;
    }
    if (this.hasLegacy) {
      const row = store.legacyRowById(this.sql, id);
      if (row) return store.rowToEntry(row, this.identity().service, this.identity().domain);
    }
    return undefined;
  }

  /** Entries with seq > afterSeq matching the filter, in seq order, at most `limit`. */
  entriesAfter(afterSeq: number, filter: LogFilter, limit: number): StoredLogEntry[] {
    const out: StoredLogEntry[] = [];
    const prune = segmentPruner(filter);
    for (const seg of this.#segsAfter(afterSeq)) {
      if (!prune(seg)) continue;
      for (const e of this.entriesOf(seg) ?? []) {
        if ((e.seq ?? 0) > afterSeq && matchesFilter(e, filter)) {
          out.push(e);
          if (out.length >= limit) return out;
        }
      }
    }
    return out;
  }

  /** Every entry after a seq, in seq order (pattern replay after a checkpoint). */
  *iterateAfter(afterSeq: number): Generator<StoredLogEntry> {
    for (const seg of this.#segsAfter(afterSeq))
      for (const e of this.entriesOf(seg) ?? []) if ((e.seq ?? 0) > afterSeq) yield e;
  }

  countAfter(afterSeq: number): number {
    let n = 0;
    for (const seg of this.#segsAfter(afterSeq)) {
      if (seg.first > afterSeq) n += seg.count;
      else if (seg.seqs) n += seg.seqs.filter((s) => s > afterSeq).length;
      else if (!seg.legacy) n += seg.last - afterSeq;
      else n += (this.entriesOf(seg) ?? []).filter((e) => (e.seq ?? 0) > afterSeq).length;
    }
    return n;
  }

  /** When the oldest entry after `afterSeq` arrived (the outbox's age), or null when none. */
  oldestReceivedAfter(afterSeq: number): number | null {
    for (const seg of this.#segsAfter(afterSeq)) return seg.minReceived;
    return null;
  }

  *#segsAfter(afterSeq: number): Generator<Segment> {
    // segments are in seq order: binary search the first that ends after afterSeq
    let lo = 0;
    let hi = this.#segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#segs[mid].last <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.#segs.length; i++) yield this.#segs[i];
  }

  #segmentOf(seq: number): Segment | undefined {
    for (const seg of this.#segsAfter(seq - 1)) return seg.first <= seq ? seg : undefined;
    return undefined;
  }

  /** Counts of segments not folded into `totals` yet (received_<level>, duplicates, rejected_<level>). */
  liveTotals(): ReadonlyMap<string, number> {
    return this.#live;
  }

  /**
   * Per-second counts for counter rebuilds: `minute` when the segment is not folded into
   * counter_minutes yet, `second` when it arrived after `receivedAfter` (the second ring's span).
   */
  forEachCount(
    fn: (second: number, level: Level, n: number, into: { minute: boolean; second: boolean }) => void,
    receivedAfter: number,
  ): void {
    for (const seg of this.#segs) {
      if (!seg.head) continue;
      const into = { minute: !seg.folded, second: seg.maxReceived > receivedAfter };
      if (!into.minute && !into.second) continue;
      for (const [second, l, n] of seg.head.seconds) fn(second, LEVELS[l], n, into);
    }
  }

  /** Segments still holding old-layout rows (for counter rebuilds from the legacy table). */
  legacyRange(): { first: number; last: number } | null {
    const legacy = this.#segs.filter((s) => s.legacy);
    return legacy.length ? { first: legacy[0].first, last: legacy[legacy.length - 1].last } : null;
  }

  // ---- deletes and rewrites ----

  /**
   * Deletes whole segments that are persisted (last <= persistedSeq) and either entirely older
   * than `beforeTs` or beyond the newest `maxRows` entries. Their counts are folded first.
   */
  trim(
    persistedSeq: number,
    beforeTs: number,
    maxRows: number,
  ): { deleted: number; maxTs: number; removed: StoredLogEntry[][] } {
    const total = this.#segs.reduce((n, s) => n + s.count, 0);
    let excess = total - maxRows;
    const doomed: Segment[] = [];
    for (const seg of this.#segs) {
      if (seg.legacy || seg.last > persistedSeq) break;
      if (seg.maxTs < beforeTs || excess > 0) {
        doomed.push(seg);
        excess -= seg.count;
      }
    }
    if (doomed.length === 0) return { deleted: 0, maxTs: 0, removed: [] };
    const removed = doomed.map((s) => this.entriesOf(s) ?? []);
    this.#delete(doomed);
    return {
      deleted: doomed.reduce((n, s) => n + s.count, 0),
      maxTs: Math.max(...doomed.map((s) => s.maxTs)),
      removed,
    };
  }

  /**
   * Removes the entries `drop` selects from segments `candidate` may hold, rewriting each
   * touched segment (one row) with what remains. Returns the removed entries.
   */
  removeWhere(candidate: (s: Segment) => boolean, drop: (e: StoredLogEntry) => boolean): StoredLogEntry[] {
    const removed: StoredLogEntry[] = [];
    const touched: { seg: Segment; keep: StoredLogEntry[] }[] = [];
    for (const seg of this.#segs) {
      if (seg.legacy || !candidate(seg)) continue;
      const entries = this.entriesOf(seg) ?? [];
      const keep = entries.filter((e) => !drop(e));
      if (keep.length === entries.length) continue;
      removed.push(...entries.filter(drop));
      touched.push({ seg, keep });
    }
    if (touched.length === 0) return removed;
    this.#delete(touched.map((t) => t.seg));
    for (const { keep } of touched) if (keep.length > 0) this.#insertFolded(keep);
    this.#segs.sort((a, b) => a.first - b.first);
    this.#invalidateIds();
    return removed;
  }

  /** Stores already-counted entries (rewrites, migration) as folded segments, keeping seqs. */
  #insertFolded(entries: StoredLogEntry[]): void {
    for (const enc of encodeSegments(entries)) {
      this.#insert(enc, enc.head, true);
      const seg = encodedToSegment(enc, enc.head, true);
      this.#segs.push(seg);
      this.#indexIds(seg, enc.ids);
    }
  }

  #delete(segs: Segment[]): void {
    const gone = new Set(segs);
    const folding = segs.filter((s) => !s.folded && s.head);
    if (folding.length > 0) this.#fold(folding);
    for (const s of segs) {
      this.sql.exec("DELETE FROM segments WHERE first_seq = ?", s.first);
      this.#cacheDrop(s.first);
    }
    const floor = Math.max(this.#seqFloor, ...segs.map((s) => s.last));
    if (floor > this.#seqFloor) {
      this.#seqFloor = floor;
      store.setMeta(this.sql, "seq_floor", String(floor));
    }
    this.#segs = this.#segs.filter((s) => !gone.has(s));
    this.#invalidateIds();
  }

  /** Adds the segments' counts to `totals` and `counter_minutes` (one upsert per key). */
  #fold(segs: Segment[]): void {
    const totals = new Map<string, number>();
    const minutes = new Map<string, number>();
    for (const s of segs) {
      const h = s.head!;
      h.levels.forEach((n, l) => totals.set(`received_${LEVELS[l]}`, (totals.get(`received_${LEVELS[l]}`) ?? 0) + n));
      if (h.dup) totals.set("duplicates", (totals.get("duplicates") ?? 0) + h.dup);
      for (const [k, n] of Object.entries(h.rejected ?? {}))
        totals.set(`rejected_${k}`, (totals.get(`rejected_${k}`) ?? 0) + n);
      for (const [second, l, n] of h.seconds) {
        const key = `${Math.floor(second / 60)}:${LEVELS[l]}`;
        minutes.set(key, (minutes.get(key) ?? 0) + n);
      }
      this.#addLive(s, -1);
      s.folded = true;
    }
    store.bumpTotals(this.sql, totals);
    store.bumpMinuteCounters(this.sql, minutes);
  }

  // ---- migration from the row-per-log layout ----

  #loadLegacy(): void {
    const legacy = store.legacySegments(this.sql, LEGACY_SEGMENT_ROWS).map(
      (r): Segment => ({
        first: r.first,
        last: r.last,
        seqs: null,
        count: r.n,
        minTs: r.min_ts,
        maxTs: r.max_ts,
        minReceived: r.min_received,
        maxReceived: r.max_received,
        levels: [r.e, r.w, r.i, r.d],
        patterns: null,
        bloom: null,
        head: null,
        folded: true,
        legacy: true,
        bytes: 0,
      }),
    );
    this.#segs = [...this.#segs, ...legacy].sort((a, b) => a.first - b.first);
    this.#legacyCount = legacy.length;
    this.#seqFloor = Math.max(this.#seqFloor, store.legacySeqHighWater(this.sql));
  }

  /**
   * Converts up to `maxSegments` legacy segments (oldest first) into segment rows and deletes
   * their old rows, in one synchronous step (committed together). Returns true when done.
   */
  migrateStep(maxSegments: number): boolean {
    const legacy = this.#segs.filter((s) => s.legacy).slice(0, maxSegments);
    for (const seg of legacy) {
      const entries = this.entriesOf(seg) ?? [];
      this.#cacheDrop(seg.first);
      this.#segs = this.#segs.filter((s) => s !== seg);
      this.#legacyCount--;
      if (entries.length > 0) this.#insertFolded(entries);
      store.deleteLegacyRows(this.sql, seg.first, seg.last);
    }
    this.#segs.sort((a, b) => a.first - b.first);
    if (this.hasLegacy) return false;
    store.finishLegacyMigration(this.sql, this.#seqFloor);
    return true;
  }

  // ---- memory ----

  get #ids(): IdTable {
    if (this.#idTable) return this.#idTable;
    const table = new IdTable(this.#segs.reduce((n, s) => n + s.count, 0));
    const bySeq = new Map(this.#segs.map((s) => [s.first, s]));
    for (const r of this.sql.exec<{ first_seq: number; ids: ArrayBuffer }>("SELECT first_seq, ids FROM segments")) {
      const seg = bySeq.get(r.first_seq);
      if (seg) addIds(table, seg, new Uint32Array(r.ids));
    }
    this.#idTable = table;
    return table;
  }

  /** Adds a new segment's ids, when the table is built (else it is read with the rest). */
  #indexIds(seg: Segment, ids: Uint32Array): void {
    if (this.#idTable) addIds(this.#idTable, seg, ids);
  }

  /** After deletes and rewrites: the next use reads the table again from the remaining rows. */
  #invalidateIds(): void {
    this.#idTable = null;
  }

  #addLive(seg: Segment, sign: 1 | -1): void {
    const h = seg.head;
    if (!h) return;
    const bump = (k: string, n: number) => n && this.#live.set(k, (this.#live.get(k) ?? 0) + sign * n);
    h.levels.forEach((n, l) => bump(`received_${LEVELS[l]}`, n));
    if (h.dup) bump("duplicates", h.dup);
    for (const [k, n] of Object.entries(h.rejected ?? {})) bump(`rejected_${k}`, n);
  }

  #cachePut(first: number, entries: StoredLogEntry[], bodyChars: number): void {
    // decoded objects take roughly twice their JSON text
    this.#cache.set(first, entries, { size: Math.max(1, 2 * bodyChars) });
  }

  #cacheDrop(first: number): void {
    this.#cache.delete(first);
    this.#columns.delete(first);
  }
}

function addIds(table: IdTable, seg: Segment, ids: Uint32Array): void {
  for (let i = 0; i < ids.length; i++) table.add(ids[i], seqAt(seg, i));
}

function rowToSegment(r: SegmentRow): Segment {
  const head = JSON.parse(r.head) as Head;
  return {
    first: r.first_seq,
    last: r.last_seq,
    seqs: r.seqs ? (JSON.parse(r.seqs) as number[]) : null,
    count: r.n,
    minTs: r.min_ts,
    maxTs: r.max_ts,
    minReceived: r.min_received,
    maxReceived: r.max_received,
    levels: head.levels,
    patterns: head.patterns,
    bloom: new Uint8Array(r.bloom),
    head,
    folded: r.folded === 1,
    legacy: false,
    bytes: r.bytes,
  };
}

function encodedToSegment(enc: EncodedSegment, head: Head, folded: boolean): Segment {
  return {
    first: enc.first,
    last: enc.last,
    seqs: enc.seqs,
    count: enc.count,
    minTs: enc.minTs,
    maxTs: enc.maxTs,
    minReceived: enc.minReceived,
    maxReceived: enc.maxReceived,
    levels: head.levels,
    patterns: head.patterns,
    bloom: enc.bloom,
    head,
    folded,
    legacy: false,
    bytes: enc.body.length,
  };
}
