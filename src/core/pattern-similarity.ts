// Template similarity for "similar patterns" queries (GET /api/logs/patterns/similar).
// Pure; used by the Durable Object and re-exported from pattern-miner.ts.
//
// Both sides are split on whitespace and aligned with a weighted longest common subsequence,
// so templates of different lengths still compare. An identical token scores 1; a token
// that only matches through a `<*>` (`<*>` vs `root`, `blk_<*>` vs `blk_<*>7`) scores 0.5,
// because a wildcard says less than a literal. The score is the aligned weight divided by
// the longer length: 1 only for identical token lists, 0 when nothing lines up.

import { WILDCARD } from "./tokenize.js";

const MAX_TOKENS = 256;

export function templateSimilarity(a: string, b: string): number {
  const x = split(a);
  const y = split(b);
  if (x.length === 0 && y.length === 0) return 1;
  if (x.length === 0 || y.length === 0) return 0;
  // Weighted LCS, two rolling rows.
  let prev = new Float64Array(y.length + 1);
  let cur = new Float64Array(y.length + 1);
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const w = tokenWeight(x[i - 1], y[j - 1]);
      const diag = w > 0 ? prev[j - 1] + w : 0;
      cur[j] = Math.max(diag, prev[j], cur[j - 1]);
    }
    [prev, cur] = [cur, prev];
  }
  const score = prev[y.length] / Math.max(x.length, y.length);
  return Math.round(score * 1e6) / 1e6;
}

function split(s: string): string[] {
  const tokens = s.split(/\s+/).filter((t) => t.length > 0);
  return tokens.length > MAX_TOKENS ? tokens.slice(0, MAX_TOKENS) : tokens;
}

/** 1 for identical tokens, 0.5 when one side's `<*>` can stand for the other, else 0. */
function tokenWeight(a: string, b: string): number {
  if (a === b) return 1;
  const aw = a.includes(WILDCARD);
  const bw = b.includes(WILDCARD);
  if (!aw && !bw) return 0;
  if ((aw && globMatch(a, b)) || (bw && globMatch(b, a))) return 0.5;
  return 0;
}

/** Does `pattern` (with `<*>` matching any run of characters, including another `<*>`) match `s`? */
export function globMatch(pattern: string, s: string): boolean {
  const parts = pattern.split(WILDCARD);
  if (!s.startsWith(parts[0])) return false;
  let pos = parts[0].length;
  for (let i = 1; i < parts.length - 1; i++) {
    const at = s.indexOf(parts[i], pos);
    if (at < 0) return false;
    pos = at + parts[i].length;
  }
  const last = parts[parts.length - 1];
  return s.length - pos >= last.length && s.endsWith(last);
}
