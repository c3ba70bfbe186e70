// Online log template miner: one per LogAggregator Durable Object (objects/pattern-engine.ts,
// all levels together), and the miner of scripts/patterns.ts and scripts/eval-patterns.ts.
// Pure: no Workers or Node APIs. Algorithm in docs/PATTERNS.md.
//
// Lines are tokenized and masked first (src/core/tokenize.ts: values with digits or a known
// shape, dates in words, lists and value-only parenthesised parts as one `<*>`). Then two levels:
//  * A group (Drain-like) collects lines with the same token count whose constant tokens
//    mostly agree (similarity >= SIMILARITY_THRESHOLD). A position where lines of the group
//    disagree becomes "differing" and the group remembers its distinct values, up to
//    VARIABLE_CARDINALITY of them.
//  * A pattern (what callers see, with a stable id) is one combination of values at the
//    group's differing positions. A differing position with few values is a constant that
//    tells two events apart ("stored as bytes" / "stored as values"); once it reaches
//    VARIABLE_CARDINALITY distinct values, or two values of one kind meet there (see
//    fitsMask), it is a variable: its values become `<*>` and the patterns that now coincide
//    merge into the oldest one, the others become aliases.
// Ids never change: a line keeps the id it got, and resolve() follows merges.

import { globMatch, templateSimilarity } from "./pattern-similarity.js";
import { WILDCARD, maskVariables, tokenize } from "./tokenize.js";
import { truncateUtf8 } from "./utf8.js";

export { maskVariables, templateSimilarity };

export interface PatternMinerOptions {
  /** Live patterns kept; beyond this the least useful is evicted (evictedTotal counts them). Default 1000. */
  maxPatterns?: number;
  /** Longer lines are cut (UTF-8 bytes, on a character boundary) before tokenizing. Default 4096. */
  maxLineBytes?: number;
  /** Tokens kept per line; the rest collapse into one trailing `<*>`. Default 128. */
  maxTokens?: number;
  /**
   * Share of a group's constant positions a line must match to join it. Default 0.6. An
   * option only so that scripts/eval-patterns.ts can choose it by cross-validation; the
   * service uses the default. A snapshot must be restored with the options it was made with.
   */
  similarityThreshold?: number;
  /** Distinct values after which a differing position is a variable. Default 4 (see above). */
  variableCardinality?: number;
}

/** Longest template in characters: the data service refuses longer patterns (PATTERN_LIMITS). */
export const MAX_TEMPLATE_CHARS = 4096;

export interface PatternSummary {
  id: string;
  template: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
}

interface PatternState {
  id: string;
  seq: number;
  tokens: string[];
  count: number;
  firstSeen: number;
  lastSeen: number;
}

interface GroupState {
  seq: number;
  tokens: string[];
  /** per position: 0 constant, 1 differing (values listed), 2 variable */
  kinds: number[];
  /** per position: distinct values while differing, else null */
  values: (string[] | null)[];
  /** ids of its patterns, oldest first */
  patterns: string[];
}

export interface MinerSnapshot {
  version: 1;
  nextGroupSeq: number;
  nextPatternSeq: number;
  evictedTotal: number;
  groups: GroupState[];
  /** live patterns, least recently used first */
  patterns: PatternState[];
  /** [absorbed id, surviving id], oldest first */
  aliases: [string, string][];
}

/** Share of a group's constant positions a line must match to join it (Drain defaults to 0.5). */
export const SIMILARITY_THRESHOLD = 0.6;
/** Distinct values after which a differing position counts as a variable. */
export const VARIABLE_CARDINALITY = 4;
/** Eviction looks at this many least recently used patterns and drops the rarest. */
const EVICTION_SCAN = 8;
/** Aliases kept per live pattern slot; the oldest are forgotten beyond this. */
const ALIASES_PER_PATTERN = 4;

const CONSTANT = 0;
const DIFFERING = 1;
const VARIABLE = 2;
const KEY_SEP = "\u0001";

interface Group {
  seq: number;
  len: number;
  tokens: string[];
  kinds: Uint8Array;
  values: (string[] | null)[];
  /** key (values at differing positions) -> pattern; insertion order = creation order */
  patterns: Map<string, Pattern>;
  indexKey: string;
}

interface Pattern {
  id: string;
  seq: number;
  group: Group;
  tokens: string[];
  key: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  template: string | null;
}

export class PatternMiner {
  readonly #maxPatterns: number;
  readonly #maxLineBytes: number;
  readonly #maxTokens: number;
  readonly #threshold: number;
  readonly #cardinality: number;
  /** token count + first token -> groups, oldest first */
  #byFirst = new Map<string, Group[]>();
  /** token count + position + literal constant token -> groups (see #searchAll) */
  #postings = new Map<string, Group[]>();
  /** all groups, oldest first */
  #groups = new Set<Group>();
  /** live patterns by id; Map order is the LRU order (least recently used first) */
  #byId = new Map<string, Pattern>();
  #aliases = new Map<string, string>();
  #nextGroupSeq = 0;
  #nextPatternSeq = 0;
  #evictedTotal = 0;
  #lastTouched: Pattern | null = null;

  constructor(options: PatternMinerOptions = {}) {
    this.#maxPatterns = Math.max(1, Math.floor(options.maxPatterns ?? 1000));
    this.#maxLineBytes = Math.max(1, Math.floor(options.maxLineBytes ?? 4096));
    this.#maxTokens = Math.max(1, Math.floor(options.maxTokens ?? 128));
    this.#threshold = Math.min(1, Math.max(0, options.similarityThreshold ?? SIMILARITY_THRESHOLD));
    this.#cardinality = Math.max(2, Math.floor(options.variableCardinality ?? VARIABLE_CARDINALITY));
  }

  get size(): number {
    return this.#byId.size;
  }

  get evictedTotal(): number {
    return this.#evictedTotal;
  }

  add(message: string, nowMs = 0): { id: string; template: string; isNew: boolean } {
    const tokens = this.#tokens(message);
    let group = this.#findGroup(tokens);
    if (group === undefined) group = this.#createGroup(tokens);
    else this.#learn(group, tokens);
    const key = keyOf(group, tokens);
    let pattern = group.patterns.get(key);
    let isNew = false;
    if (pattern === undefined) {
      pattern = this.#createPattern(group, tokens, key, nowMs);
      isNew = true;
    } else {
      pattern.count++;
      if (nowMs > pattern.lastSeen) pattern.lastSeen = nowMs;
      if (nowMs < pattern.firstSeen) pattern.firstSeen = nowMs;
      this.#touch(pattern);
    }
    // A loop, not one eviction: a snapshot restored with a smaller cap shrinks here.
    while (isNew && this.#byId.size > this.#maxPatterns && this.#evict(pattern));
    return { id: pattern.id, template: templateOf(pattern), isNew };
  }

  /** The pattern whose template, as it stands, fits the line (no learning, nothing changes). */
  match(message: string): { id: string; template: string } | undefined {
    const tokens = this.#tokens(message);
    const group = this.#findGroup(tokens);
    if (group === undefined) return undefined;
    for (let p = 0; p < group.len; p++) {
      if (group.kinds[p] === CONSTANT && group.tokens[p] !== tokens[p]) return undefined;
    }
    const pattern = group.patterns.get(keyOf(group, tokens));
    return pattern && { id: pattern.id, template: templateOf(pattern) };
  }

  resolve(id: string): string {
    let current = id;
    for (let hops = 0; hops <= this.#aliases.size; hops++) {
      const next = this.#aliases.get(current);
      if (next === undefined) break;
      current = next;
    }
    return current;
  }

  /** Every id that resolves to the same pattern as `id` (itself included): for pattern_id filters. */
  idsOf(id: string): string[] {
    const target = this.resolve(id);
    const ids = [target];
    for (const from of this.#aliases.keys()) if (from !== target && this.resolve(from) === target) ids.push(from);
    return ids;
  }

  get(id: string): PatternSummary | undefined {
    const pattern = this.#byId.get(this.resolve(id));
    return pattern && summarize(pattern);
  }

  patterns(): PatternSummary[] {
    return [...this.#byId.values()].sort((a, b) => a.seq - b.seq).map(summarize);
  }

  toJSON(): MinerSnapshot {
    const groups = [...this.#groups].sort((a, b) => a.seq - b.seq);
    return {
      version: 1,
      nextGroupSeq: this.#nextGroupSeq,
      nextPatternSeq: this.#nextPatternSeq,
      evictedTotal: this.#evictedTotal,
      groups: groups.map((g) => ({
        seq: g.seq,
        tokens: [...g.tokens],
        kinds: [...g.kinds],
        values: g.values.map((v) => (v ? [...v] : null)),
        patterns: [...g.patterns.values()].map((p) => p.id),
      })),
      patterns: [...this.#byId.values()].map((p) => ({
        id: p.id,
        seq: p.seq,
        tokens: [...p.tokens],
        count: p.count,
        firstSeen: p.firstSeen,
        lastSeen: p.lastSeen,
      })),
      aliases: [...this.#aliases],
    };
  }

  static fromJSON(snapshot: MinerSnapshot, options?: PatternMinerOptions): PatternMiner {
    if (snapshot?.version !== 1) throw new Error("PatternMiner.fromJSON: unsupported snapshot version");
    const miner = new PatternMiner(options);
    miner.#nextGroupSeq = snapshot.nextGroupSeq;
    miner.#nextPatternSeq = snapshot.nextPatternSeq;
    miner.#evictedTotal = snapshot.evictedTotal;
    const states = new Map(snapshot.patterns.map((p) => [p.id, p]));
    const restored: Pattern[] = [];
    for (const gs of [...snapshot.groups].sort((a, b) => a.seq - b.seq)) {
      const group = miner.#indexGroup(gs.seq, gs.tokens, Uint8Array.from(gs.kinds), gs.values);
      for (const id of gs.patterns) {
        const ps = states.get(id);
        if (!ps) throw new Error(`PatternMiner.fromJSON: group ${gs.seq} lists unknown pattern ${id}`);
        const pattern: Pattern = { ...ps, tokens: [...ps.tokens], group, key: "", template: null };
        pattern.key = keyOf(group, pattern.tokens);
        group.patterns.set(pattern.key, pattern);
        restored.push(pattern);
      }
    }
    const byId = new Map(restored.map((p) => [p.id, p]));
    // Insert in LRU order (the snapshot's order) so eviction picks the same victims.
    for (const ps of snapshot.patterns) miner.#byId.set(ps.id, byId.get(ps.id)!);
    for (const [from, to] of snapshot.aliases) miner.#aliases.set(from, to);
    const last = snapshot.patterns[snapshot.patterns.length - 1];
    miner.#lastTouched = last ? miner.#byId.get(last.id)! : null;
    return miner;
  }

  // ---- internals ----

  /**
   * The line's tokens, never empty and never longer than MAX_TEMPLATE_CHARS once joined: a
   * blank line is one `<*>` (it has no constant part), so no pattern has an empty template,
   * which the data service would refuse (and with it every later pattern push of the service).
   */
  #tokens(message: string): string[] {
    const tokens = tokenize(truncateUtf8(message, this.#maxLineBytes), this.#maxTokens);
    if (tokens.length === 0) return [WILDCARD];
    let chars = tokens.length - 1;
    for (let i = 0; i < tokens.length; i++) {
      chars += tokens[i].length;
      if (chars > MAX_TEMPLATE_CHARS) {
        // Masking can lengthen a line (`1` -> `<*>`): cut at a token, the rest is one `<*>`.
        const kept = tokens.slice(0, i);
        while (kept.length > 0 && kept.join(" ").length + 4 > MAX_TEMPLATE_CHARS) kept.pop();
        kept.push(WILDCARD);
        return kept;
      }
    }
    return tokens;
  }

  /**
   * Best group by similarity, ties to the oldest: first among the groups with the same first
   * token (Drain's prefix tree, depth 1), then among all groups of the same length, for lines
   * whose first word is itself a variable (`chrome.exe - … open through proxy …`).
   */
  #findGroup(tokens: string[]): Group | undefined {
    const near = this.#byFirst.get(firstKey(tokens.length, tokens[0] ?? ""));
    if (near) {
      const best = bestOf(near, tokens, this.#threshold);
      if (best) return best;
    }
    return this.#searchAll(tokens);
  }

  /**
   * Exact best-group search over all groups of the line's length, via postings. A group
   * reaching the threshold matches at least need = ceil(threshold * m) of the line's m
   * literal tokens, so it shares one of ANY m - need + 1 of them: we pick the positions with
   * the shortest posting lists and only score the groups found there.
   */
  #searchAll(tokens: string[]): Group | undefined {
    const len = tokens.length;
    const lists: Group[][] = [];
    for (let p = 0; p < len; p++) {
      if (tokens[p] === WILDCARD) continue;
      lists.push(this.#postings.get(postingKey(len, p, tokens[p])) ?? NO_GROUPS);
    }
    const m = lists.length;
    if (m === 0) return undefined; // an all-`<*>` line only matches its first-token bucket
    const need = Math.ceil(this.#threshold * m - 1e-9);
    lists.sort((a, b) => a.length - b.length);
    const candidates = new Set<Group>();
    for (let i = 0; i < m - need + 1; i++) for (const g of lists[i]) candidates.add(g);
    return bestOf(candidates, tokens, this.#threshold);
  }

  #createGroup(tokens: string[]): Group {
    return this.#indexGroup(
      this.#nextGroupSeq++,
      tokens,
      new Uint8Array(tokens.length),
      tokens.map(() => null),
    );
  }

  #indexGroup(seq: number, tokens: string[], kinds: Uint8Array, values: (string[] | null)[]): Group {
    const len = tokens.length;
    const group: Group = {
      seq,
      len,
      tokens: [...tokens],
      kinds,
      values: values.map((v) => (v ? [...v] : null)),
      patterns: new Map(),
      indexKey: firstKey(len, tokens[0] ?? ""),
    };
    pushTo(this.#byFirst, group.indexKey, group);
    for (let p = 0; p < len; p++) {
      if (kinds[p] === CONSTANT && tokens[p] !== WILDCARD) pushTo(this.#postings, postingKey(len, p, tokens[p]), group);
    }
    this.#groups.add(group);
    return group;
  }

  #unindexGroup(group: Group): void {
    removeFrom(this.#byFirst, group.indexKey, group);
    for (let p = 0; p < group.len; p++) {
      if (group.kinds[p] === CONSTANT && group.tokens[p] !== WILDCARD) {
        removeFrom(this.#postings, postingKey(group.len, p, group.tokens[p]), group);
      }
    }
    this.#groups.delete(group);
  }

  /** Records the line's tokens in the group: new differing positions, new values, new variables. */
  #learn(group: Group, tokens: string[]): void {
    for (let p = 0; p < group.len; p++) {
      const kind = group.kinds[p];
      if (kind === VARIABLE) continue;
      const token = tokens[p];
      if (kind === CONSTANT) {
        if (group.tokens[p] === token) continue;
        if (group.tokens[p] !== WILDCARD) removeFrom(this.#postings, postingKey(group.len, p, group.tokens[p]), group);
        group.kinds[p] = DIFFERING;
        group.values[p] = [group.tokens[p]];
        this.#rekey(group);
      }
      const values = group.values[p]!;
      if (values.includes(token)) continue;
      values.push(token);
      // Many values, or a masked value (`<*>`, `chdir(<*>)`) next to a literal of that shape
      // (`ns.example.com`, `chdir(pwd)`): the literal is a value the masks didn't catch.
      if (values.length >= this.#cardinality || fitsMask(values, token)) {
        group.kinds[p] = VARIABLE;
        group.values[p] = null;
        for (const pattern of group.patterns.values()) {
          pattern.tokens[p] = WILDCARD;
          pattern.template = null;
        }
        this.#rekey(group);
      }
    }
  }

  /** Recomputes pattern keys after the group's positions changed; patterns that now coincide merge into the oldest. */
  #rekey(group: Group): void {
    const next = new Map<string, Pattern>();
    for (const pattern of group.patterns.values()) {
      pattern.key = keyOf(group, pattern.tokens);
      const survivor = next.get(pattern.key);
      if (survivor === undefined) next.set(pattern.key, pattern);
      else this.#absorb(survivor, pattern);
    }
    group.patterns = next;
  }

  #absorb(survivor: Pattern, absorbed: Pattern): void {
    survivor.count += absorbed.count;
    if (absorbed.firstSeen < survivor.firstSeen) survivor.firstSeen = absorbed.firstSeen;
    if (absorbed.lastSeen > survivor.lastSeen) survivor.lastSeen = absorbed.lastSeen;
    this.#byId.delete(absorbed.id);
    if (this.#lastTouched === absorbed) this.#lastTouched = null;
    this.#aliases.set(absorbed.id, survivor.id);
    const maxAliases = this.#maxPatterns * ALIASES_PER_PATTERN;
    while (this.#aliases.size > maxAliases) {
      this.#aliases.delete(this.#aliases.keys().next().value!);
    }
  }

  #createPattern(group: Group, tokens: string[], key: string, nowMs: number): Pattern {
    const templateTokens = new Array<string>(group.len);
    for (let p = 0; p < group.len; p++) {
      templateTokens[p] = group.kinds[p] === VARIABLE ? WILDCARD : tokens[p];
    }
    const template = templateTokens.join(" ");
    const pattern: Pattern = {
      id: this.#newId(template),
      seq: this.#nextPatternSeq++,
      group,
      tokens: templateTokens,
      key,
      count: 1,
      firstSeen: nowMs,
      lastSeen: nowMs,
      template,
    };
    group.patterns.set(key, pattern);
    this.#byId.set(pattern.id, pattern);
    this.#lastTouched = pattern;
    return pattern;
  }

  #newId(template: string): string {
    const base = `p${fnv1a64Hex(template).slice(4)}`;
    let id = base;
    for (let n = 1; this.#byId.has(id) || this.#aliases.has(id); n++) id = `${base}-${n}`;
    return id;
  }

  #touch(pattern: Pattern): void {
    if (this.#lastTouched === pattern) return;
    this.#byId.delete(pattern.id);
    this.#byId.set(pattern.id, pattern);
    this.#lastTouched = pattern;
  }

  /** Drops the rarest of the EVICTION_SCAN least recently used patterns (never `keep`). */
  #evict(keep: Pattern): boolean {
    let victim: Pattern | undefined;
    let scanned = 0;
    for (const pattern of this.#byId.values()) {
      if (scanned++ >= EVICTION_SCAN) break;
      if (pattern === keep) continue;
      if (victim === undefined || pattern.count < victim.count) victim = pattern;
    }
    if (victim === undefined) return false;
    this.#byId.delete(victim.id);
    const group = victim.group;
    group.patterns.delete(victim.key);
    if (group.patterns.size === 0) this.#unindexGroup(group);
    this.#evictedTotal++;
    return true;
  }
}

/**
 * Is the new value at a differing position a value of the same kind as one seen there? Then
 * the position is a variable at once, without waiting for VARIABLE_CARDINALITY values:
 *  - a masked value and a literal it covers (`<*>` and `ns.example.com`, `chdir(<*>)` and
 *    `chdir(pwd)`): the literal is a value the masks missed;
 *  - the same masked value behind two names (`alpha:<*>`, `beta:<*>`): a host and its port,
 *    where the host is the variable that shares the token with the constant-looking name.
 */
function fitsMask(values: string[], token: string): boolean {
  const masked = token.includes(WILDCARD);
  const named = nameSplit(token);
  for (const v of values) {
    if (v === token) continue;
    if (masked ? globMatch(token, v) : v.includes(WILDCARD) && globMatch(v, token)) return true;
    if (named > 0) {
      const vNamed = nameSplit(v);
      // same port, other host: the part after the name is one masked value and nothing else
      if (vNamed > 0 && masked && v.slice(vNamed) === token.slice(named) && isBareValue(token, named)) return true;
    }
  }
  return false;
}

/** Index just past the separator of `name:value` / `name=value` (name: letters), else 0. */
function nameSplit(t: string): number {
  let w = 0;
  while (w < t.length && isLetter(t.charCodeAt(w))) w++;
  if (w === 0 || w >= t.length - 1) return 0;
  const c = t.charCodeAt(w);
  return c === 58 || c === 61 ? w + 1 : 0;
}

/** Is `t` from `from` on `<*>` and closing punctuation only? */
function isBareValue(t: string, from: number): boolean {
  if (!t.startsWith(WILDCARD, from)) return false;
  for (let i = from + WILDCARD.length; i < t.length; i++) if (")]}>,;.!?\"'".indexOf(t[i]) < 0) return false;
  return true;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function firstKey(len: number, first: string): string {
  return len + KEY_SEP + first;
}

function postingKey(len: number, position: number, token: string): string {
  return len + KEY_SEP + position + KEY_SEP + token;
}

const NO_GROUPS: Group[] = [];

/** The most similar group at or above the threshold; ties go to the oldest. */
function bestOf(groups: Iterable<Group>, tokens: string[], threshold: number): Group | undefined {
  let best: Group | undefined;
  let bestScore = -1;
  for (const g of groups) {
    const s = similarity(g, tokens, threshold);
    if (s > bestScore || (s === bestScore && best !== undefined && g.seq < best.seq)) {
      bestScore = s;
      best = g;
    }
  }
  return best !== undefined && bestScore >= threshold ? best : undefined;
}

/**
 * Share of the group's constant positions that the line matches, not counting positions
 * where both hold a bare `<*>` (Drain's rule: a masked value says nothing about the event).
 * Two lines that are `<*>` everywhere score 1. Returns -1 as soon as the threshold is out of
 * reach (more than (1 - threshold) * length mismatches), which keeps the full scan cheap.
 */
function similarity(group: Group, tokens: string[], threshold: number): number {
  let same = 0;
  let masked = 0;
  let mismatches = 0;
  const gt = group.tokens;
  const kinds = group.kinds;
  const len = gt.length;
  const allowed = (1 - threshold) * len;
  for (let p = 0; p < len; p++) {
    if (kinds[p] === CONSTANT && gt[p] === tokens[p]) {
      if (gt[p] === WILDCARD) masked++;
      else same++;
    } else if (++mismatches > allowed) return -1;
  }
  return len === masked ? 1 : same / (len - masked);
}

/** The values a line (or a pattern's template) has at the group's differing positions. */
function keyOf(group: Group, tokens: string[]): string {
  let key = "";
  const kinds = group.kinds;
  for (let p = 0; p < kinds.length; p++) {
    if (kinds[p] === DIFFERING) key += tokens[p] + KEY_SEP;
  }
  return key;
}

function templateOf(pattern: Pattern): string {
  return (pattern.template ??= pattern.tokens.join(" "));
}

function summarize(p: Pattern): PatternSummary {
  return { id: p.id, template: templateOf(p), count: p.count, firstSeen: p.firstSeen, lastSeen: p.lastSeen };
}

function pushTo<K>(map: Map<K, Group[]>, key: K, group: Group): void {
  const list = map.get(key);
  if (list) list.push(group);
  else map.set(key, [group]);
}

function removeFrom<K>(map: Map<K, Group[]>, key: K, group: Group): void {
  const list = map.get(key);
  if (!list) return;
  const i = list.indexOf(group);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) map.delete(key);
}

/** 64-bit FNV-1a over the UTF-8 bytes of `s`, as 16 hex digits (four 16-bit limbs, no BigInt). */
export function fnv1a64Hex(s: string): string {
  // offset basis 0xcbf29ce484222325, prime 0x100000001b3
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  const step = (byte: number) => {
    h0 ^= byte;
    // multiply by 2^40 + 0x1b3: (h * 0x1b3) + (h << 40); h << 40 puts h0 at bit 8 of limb 2
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + (t1 >>> 16) + ((h0 & 0xff) << 8);
    const t3 = h3 * 0x1b3 + (t2 >>> 16) + (h0 >>> 8) + ((h1 & 0xff) << 8);
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  };
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) step(c);
    else if (c < 0x800) {
      step(0xc0 | (c >> 6));
      step(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      step(0xe0 | (c >> 12));
      step(0x80 | ((c >> 6) & 0x3f));
      step(0x80 | (c & 0x3f));
    } else {
      step(0xf0 | (c >> 18));
      step(0x80 | ((c >> 12) & 0x3f));
      step(0x80 | ((c >> 6) & 0x3f));
      step(0x80 | (c & 0x3f));
    }
  }
  const hex = (v: number) => v.toString(16).padStart(4, "0");
  return hex(h3) + hex(h2) + hex(h1) + hex(h0);
}
