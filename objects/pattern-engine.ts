// The aggregator's pattern plumbing: one PatternMiner and its PatternBook, learned-pattern labels,
// and the checkpoint in SQLite. After a restart the checkpoint is restored and the rows stored
// after it (read from the segment store) are replayed in seq order: the miner is deterministic, so the state (and every id it
// hands out) is exactly what it was.
import { HOUR_MS } from "../src/core/duration.js";
import { type LearnedPattern, LearnedMatcher } from "../src/core/learned-patterns.js";
import { type MinerSnapshot, PatternMiner } from "../src/core/pattern-miner.js";
import { PatternBook, type PatternBookSnapshot, type PatternStatView } from "../src/core/pattern-stats.js";
import type { Category, Level } from "../src/schema/log-entry.js";
import type { Pattern } from "../src/schema/pattern.js";
import * as store from "./log-store.js";

/** Patterns per aggregator; the least useful is evicted beyond this (patterns_evicted_total). */
export const MAX_PATTERNS = 1000;
/** A checkpoint is one SQLite value (≤ 2 MB); rows after it are replayed on restart. */
const CHECKPOINT_KEY = "patterns_checkpoint";

interface Checkpoint {
  seq: number;
  miner: MinerSnapshot;
  book: PatternBookSnapshot;
}

export interface PatternQuery {
  start: number;
  end: number;
  bucketMs: number;
  minFrequency: number;
  limit: number;
  withTrend: boolean;
}

export class PatternEngine {
  #miner = new PatternMiner({ maxPatterns: MAX_PATTERNS });
  #book = new PatternBook();
  #learned = new LearnedMatcher([]);
  /** mined id → learned pattern (null = checked, none); cleared when the learned set changes */
  #labels = new Map<string, LearnedPattern | null>();
  #lastSeq = 0;
  #checkpointSeq = 0;

  constructor(private readonly sql: SqlStorage) {}

  /** Restores the checkpoint, then replays the entries stored after it (`after(seq)`, seq order). */
  restore(
    after: (seq: number) => Iterable<{
      seq?: number;
      message: string;
      level: Level;
      priority?: number;
      timestamp: number;
      received_at: number;
    }>,
  ): void {
    const raw = store.getMeta(this.sql, CHECKPOINT_KEY);
    if (raw) {
      const cp = JSON.parse(raw) as Checkpoint;
      this.#miner = PatternMiner.fromJSON(cp.miner, { maxPatterns: MAX_PATTERNS });
      this.#book = PatternBook.fromJSON(cp.book);
      this.#lastSeq = this.#checkpointSeq = cp.seq;
    }
    const learned = store.getMeta(this.sql, "learned_patterns");
    if (learned) this.#learned = new LearnedMatcher(JSON.parse(learned) as LearnedPattern[]);
    for (const e of after(this.#lastSeq))
      this.#observe(e.seq ?? 0, e.message, e.level, e.priority, Math.min(e.timestamp, e.received_at), e.received_at);
  }

  #observe(
    seq: number,
    message: string,
    level: Level,
    priority: number | undefined,
    countedAt: number,
    receivedAt: number,
  ): { id: string; template: string } {
    const r = this.#miner.add(message, receivedAt);
    this.#book.record(r.id, level, priority, countedAt);
    this.#lastSeq = seq;
    return r;
  }

  /**
   * Assigns the entry's pattern (before it is stored, so `pattern_id` is in the row) and applies
   * a learned category when the entry has none. Call advance(seq) once the row is stored.
   */
  assign(e: {
    message: string;
    level: Level;
    priority?: number;
    timestamp: number;
    received_at: number;
    category?: Category;
    service?: string;
  }): string {
    const r = this.#observe(
      this.#lastSeq,
      e.message,
      e.level,
      e.priority,
      Math.min(e.timestamp, e.received_at),
      e.received_at,
    );
    const label = this.#label(r.id, e.message, r.template, e.service);
    if (label?.category && e.category === undefined) e.category = label.category;
    return r.id;
  }

  #label(id: string, message: string, template: string, service?: string): LearnedPattern | null {
    let label = this.#labels.get(id);
    if (label === undefined) {
      label = this.#learned.patterns.length ? (this.#learned.match(message, template, service) ?? null) : null;
      if (this.#labels.size >= 4 * MAX_PATTERNS) this.#labels.clear(); // bounded; recomputed on demand
      this.#labels.set(id, label);
    }
    return label;
  }

  /** Widens a pattern_id filter to the ids merged into the same pattern (stored ids stay valid). */
  expandFilter<F extends { patternId?: string; patternIds?: string[] }>(f: F): F {
    if (f.patternId === undefined) return f;
    const ids = this.#miner.idsOf(f.patternId);
    return ids.length > 1 || ids[0] !== f.patternId
      ? { ...f, patternIds: [...new Set([f.patternId, ...ids])].slice(0, 90) }
      : f;
  }

  advance(seq: number): void {
    this.#lastSeq = seq;
  }

  get hasLearned(): boolean {
    return store.getMeta(this.sql, "learned_patterns") !== undefined;
  }

  setLearned(patterns: LearnedPattern[]): void {
    store.setMeta(this.sql, "learned_patterns", JSON.stringify(patterns));
    this.#learned = new LearnedMatcher(patterns);
    this.#labels.clear();
  }

  get dirty(): boolean {
    return this.#lastSeq !== this.#checkpointSeq;
  }

  get evictedTotal(): number {
    return this.#miner.evictedTotal;
  }

  get size(): number {
    return this.#miner.size;
  }

  checkpoint(): void {
    if (!this.dirty) return;
    this.#book.compact(
      (id) => this.#miner.resolve(id),
      (id) => this.#miner.get(id) !== undefined,
    );
    const cp: Checkpoint = { seq: this.#lastSeq, miner: this.#miner.toJSON(), book: this.#book.toJSON() };
    store.setMeta(this.sql, CHECKPOINT_KEY, JSON.stringify(cp));
    this.#checkpointSeq = this.#lastSeq;
  }

  /** Patterns as the contract shows them, most frequent in [start, end) first. */
  list(service: string, q: PatternQuery, nowMs: number): Pattern[] {
    this.#book.compact(
      (id) => this.#miner.resolve(id),
      (id) => this.#miner.get(id) !== undefined,
    );
    const ranked: { id: string; template: string; view: PatternStatView; frequency: number }[] = [];
    for (const p of this.#miner.patterns()) {
      const view = this.#book.view(p.id);
      if (!view) continue;
      const frequency =
        q.start <= view.firstSeen && q.end > view.lastSeen
          ? view.total
          : this.#book.countIn(p.id, q.start, q.end, nowMs);
      if (frequency >= Math.max(1, q.minFrequency)) ranked.push({ id: p.id, template: p.template, view, frequency });
    }
    ranked.sort((a, b) => b.frequency - a.frequency || a.id.localeCompare(b.id));
    // Trends (and learned labels) only for what is returned: the snapshot asks for 10 of 1000.
    return ranked
      .slice(0, q.limit)
      .map((r) => this.#toPattern(r.id, r.template, r.view, r.frequency, service, q, nowMs));
  }

  get(id: string, service: string, nowMs: number): Pattern | null {
    const live = this.#miner.get(id);
    if (!live) return null;
    this.#book.compact(
      (x) => this.#miner.resolve(x),
      (x) => this.#miner.get(x) !== undefined,
    );
    const v = this.#book.view(live.id);
    if (!v) return null;
    return this.#toPattern(
      live.id,
      live.template,
      v,
      v.total,
      service,
      { start: nowMs - HOUR_MS, end: nowMs, bucketMs: 60_000, minFrequency: 0, limit: 1, withTrend: false },
      nowMs,
    );
  }

  #toPattern(
    id: string,
    template: string,
    v: PatternStatView,
    frequency: number,
    service: string,
    q: PatternQuery,
    nowMs: number,
  ): Pattern {
    const label = this.#label(id, template, template, service);
    const p: Pattern = {
      id,
      pattern: template,
      type: label?.type ?? v.type,
      frequency,
      first_seen: v.firstSeen,
      last_seen: v.lastSeen,
      services: [service],
      severity: label?.severity ?? v.severity,
    };
    if (label?.name) p.name = label.name;
    if (label?.category) p.category = label.category;
    if (q.withTrend) p.trend = this.#book.trend(id, q.start, q.end, q.bucketMs, nowMs);
    return p;
  }
}
