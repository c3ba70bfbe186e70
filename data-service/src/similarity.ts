// Token similarity between a message (or template) and a pattern template, for
// GET /api/logs/patterns/similar. Pure.
//
// Tokens are whitespace-separated; a token holding a digit is masked to `<*>` (the miner's
// generic wildcard), so "took 35 ms" and "took <*> ms" tokenise alike.
// - Same token count: positional (Drain's simSeq): share of positions that are equal or where
//   either side is `<*>`.
// - Otherwise: Jaccard over the sets of non-wildcard tokens.
export const WILDCARD = "<*>";

export function tokens(text: string): string[] {
  const out: string[] = [];
  for (const t of text.trim().split(/\s+/)) {
    if (t === "") continue;
    out.push(t === WILDCARD || /\d/.test(t) ? WILDCARD : t);
  }
  return out;
}

export function similarity(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  if (a.length === b.length) {
    let same = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === b[i] || a[i] === WILDCARD || b[i] === WILDCARD) same++;
    return round(same / a.length);
  }
  const sa = new Set(a.filter((t) => t !== WILDCARD));
  const sb = new Set(b.filter((t) => t !== WILDCARD));
  let inter = 0;
  for (const t of sa) if (sb.has(t)) inter++;
  const union = sa.size + sb.size - inter;
  return union === 0 ? 0 : round(inter / union);
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
