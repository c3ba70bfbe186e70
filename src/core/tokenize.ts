// Tokenizer and generic variable masking for the pattern miner (src/core/pattern-miner.ts).
// Pure: no Workers or Node APIs, so it runs in a Durable Object and in Node scripts alike.
//
// A message is split on whitespace; each token is masked on its own (below), then a second
// pass (collapseVariables) joins values that span tokens: a date in words, a list of values,
// a parenthesised part holding only values. The masks are generic (no log family knows
// special words):
//   numbers, hex, times, dates, IPv4/IPv6, host:port   -> any token holding a digit
//   UUIDs, URLs (`x://`), e-mails, file paths (`/a/b`, `./a`, `~/a`, `C:\a`) -> `<*>`
//   key=value                                        -> `key=<*>`
//   a single quoted token ('x', "x")                 -> `'<*>'`
// A token with a digit keeps a leading word that ends in a delimiter (`blk_<*>`, `core.<*>`,
// `size:<*>`, `part-<*>`) because that word is nearly always the constant name of the value.
// Brackets and trailing punctuation around a value are kept: `[10.0.0.1]` -> `[<*>]`.

export const WILDCARD = "<*>";

/** Stripped in front of a token's core: brackets and quotes. */
const OPENERS = "([{<\"'";
/** Stripped behind a token's core: brackets, quotes and sentence punctuation. */
const CLOSERS = ")]}>,;:.!?\"'";

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isHexOrColon(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 58 || c === 46;
}

/** Delimiters that may end the constant word in front of a value: `_ . : # - / [ ( $ @`. */
function isPrefixDelimiter(c: number): boolean {
  return (
    c === 95 || c === 46 || c === 58 || c === 35 || c === 45 || c === 47 || c === 91 || c === 40 || c === 36 || c === 64
  );
}

/** Characters allowed in the key of key=value. */
function isKeyChar(c: number): boolean {
  return isAlpha(c) || isDigit(c) || c === 95 || c === 46 || c === 45 || c === 58 || c === 36 || c === 35;
}

function isUuid(s: string): boolean {
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!isHexOrColon(c) || c === 58 || c === 46) return false;
  }
  return true;
}

/** IPv6 or MAC: at least two ':' and only hex digits, ':' and '.' (an embedded IPv4 tail). */
function isIpv6(s: string): boolean {
  let colons = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isHexOrColon(c)) return false;
    if (c === 58) colons++;
  }
  return colons >= 2;
}

function isPath(core: string): boolean {
  const c0 = core.charCodeAt(0);
  if (c0 === 47 /* / */) return core.length > 1 && core.charCodeAt(1) !== 47;
  if (c0 === 92 /* \ */) return core.length > 1;
  if (c0 === 126 /* ~ */) return core.charCodeAt(1) === 47;
  if (c0 === 46 /* . */) return core.startsWith("./") || core.startsWith("../");
  // Windows drive path: C:\ or C:/
  return isAlpha(c0) && core.charCodeAt(1) === 58 && (core.charCodeAt(2) === 92 || core.charCodeAt(2) === 47);
}

function isEmail(core: string): boolean {
  const at = core.indexOf("@");
  if (at <= 0) return false;
  const dot = core.indexOf(".", at + 2);
  return dot > at + 1 && dot < core.length - 1 && isAlpha(core.charCodeAt(core.length - 1));
}

/**
 * Masks one whitespace-free token. Returns the token itself (same string) when nothing in it
 * looks variable: the common case, decided in one pass without regexes.
 */
export function maskToken(t: string): string {
  const n = t.length;
  let hasDigit = false;
  let special = false;
  for (let i = 0; i < n; i++) {
    const c = t.charCodeAt(i);
    if (c >= 48 && c <= 57) hasDigit = true;
    // / = @ " ' \
    else if (c === 47 || c === 61 || c === 64 || c === 34 || c === 39 || c === 92) special = true;
  }
  if (!hasDigit && !special) return t;

  // Strip brackets/quotes in front and punctuation behind; mask only the core.
  let a = 0;
  while (a < n && OPENERS.indexOf(t[a]) >= 0) a++;
  let b = n;
  while (b > a && CLOSERS.indexOf(t[b - 1]) >= 0) b--;
  if (a >= b) return t;
  const lead = t.slice(0, a);
  const trail = t.slice(b);

  // A single quoted token: 'value' or "value".
  if (a > 0 && b < n) {
    const q = t.charCodeAt(a - 1);
    if ((q === 34 || q === 39) && t.charCodeAt(b) === q) return lead + WILDCARD + trail;
  }

  const core = a === 0 && b === n ? t : t.slice(a, b);
  if (core.indexOf("://") > 0) return lead + WILDCARD + trail;
  if (isPath(core)) return lead + WILDCARD + trail;
  if (isEmail(core)) return lead + WILDCARD + trail;

  const eq = core.indexOf("=");
  if (eq > 0) {
    let keyOk = false;
    let i = 0;
    for (; i < eq; i++) {
      const c = core.charCodeAt(i);
      if (!isKeyChar(c)) break;
      if (isAlpha(c)) keyOk = true;
    }
    if (keyOk && i === eq) {
      if (eq === core.length - 1) return t; // `ruser=`: nothing to mask
      // key='value': the opening quote stays, its closing one is already in `trail`
      const q = core.charCodeAt(eq + 1);
      const keep = (q === 34 || q === 39) && eq + 2 < core.length ? eq + 2 : eq + 1;
      return lead + core.slice(0, keep) + WILDCARD + trail;
    }
  }

  // IPv6 and MAC addresses before name:value below would split them at the first colon.
  if (hasDigit && isIpv6(core)) return lead + WILDCARD + trail;

  // name(value, name[value, name:value: mask the value on its own (chdir(<*>), size:<*>).
  let w = 0;
  while (w < core.length && isAlpha(core.charCodeAt(w))) w++;
  if (w > 0 && w < core.length - 1) {
    const c = core.charCodeAt(w);
    if (c === 40 || c === 91 || c === 58) {
      const rest = core.slice(w + 1);
      const masked = maskToken(rest);
      if (masked !== rest) return lead + core.slice(0, w + 1) + masked + trail;
    }
  }

  if (!hasDigit) return t;
  let digitInCore = false;
  for (let i = 0; i < core.length; i++) {
    if (isDigit(core.charCodeAt(i))) {
      digitInCore = true;
      break;
    }
  }
  if (!digitInCore) return t;
  if (isUuid(core)) return lead + WILDCARD + trail;

  // Keep a leading word that ends in a delimiter when the rest is a plain number:
  // blk_<*>, core.<*>, size:<*>, part-<*>. Mixed rests (broadcast_9_piece0, MSRA-SA-41.x.com,
  // customer-187-141-x.mx) are identifiers as a whole: the word is part of the value.
  let j = 0;
  while (j < core.length && isAlpha(core.charCodeAt(j))) j++;
  if (j > 0 && j < core.length - 1 && isPrefixDelimiter(core.charCodeAt(j))) {
    let k = j + 1;
    // a run like `.........` belongs to the word; a `-` in front of the digits is their sign
    while (
      k < core.length &&
      isPrefixDelimiter(core.charCodeAt(k)) &&
      !(core.charCodeAt(k) === 45 && isDigit(core.charCodeAt(k + 1)))
    )
      k++;
    if (k < core.length && isNumeric(core, k)) return lead + core.slice(0, k) + WILDCARD + trail;
  }
  return lead + WILDCARD + trail;
}

/** Digits with optional sign and `.`/`,` separators from `from` to the end. */
function isNumeric(s: string, from: number): boolean {
  let digits = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (!(c === 46 || c === 44 || ((c === 45 || c === 43) && i === from))) return false;
  }
  return digits > 0;
}

/**
 * Splits on whitespace and masks each token. Longer messages are cut at `maxTokens`: the
 * first `maxTokens - 1` tokens are kept and the rest collapse into one trailing `<*>`.
 */
export function tokenize(message: string, maxTokens = Number.MAX_SAFE_INTEGER): string[] {
  const out: string[] = [];
  const n = message.length;
  let i = 0;
  let prevNumber = false;
  while (i < n) {
    let c = message.charCodeAt(i);
    while (i < n && (c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12)) c = message.charCodeAt(++i);
    if (i >= n) break;
    if (out.length === maxTokens - 1) {
      // Is there more than this one last token? Then collapse the rest.
      let k = i;
      while (k < n && !isSpace(message.charCodeAt(k))) k++;
      let m = k;
      while (m < n && isSpace(message.charCodeAt(m))) m++;
      out.push(m < n ? WILDCARD : maskToken(message.slice(i, k)));
      break;
    }
    const start = i;
    while (i < n && !isSpace(message.charCodeAt(i))) i++;
    const raw = message.slice(start, i);
    // `5.2 KB`: a byte unit right after a plain number is part of the value (sizes are
    // printed in whatever unit fits, so the unit varies with the number).
    out.push(prevNumber && isByteUnit(raw) ? WILDCARD + raw.slice(unitLength(raw)) : maskToken(raw));
    // `(0.5 KB)`: a number after an opening bracket is still a number
    const c0 = raw.charCodeAt(0);
    prevNumber = isNumeric(raw, c0 === 40 || c0 === 91 ? 1 : 0);
  }
  return collapseVariables(out);
}

// ---- second pass: variables that span tokens ---------------------------------------------------
//
// Masking one token at a time cannot see a value written as several tokens. Three generic
// cases, each of which would otherwise change the token count of one event from line to line
// (and the miner never merges across token counts):
//  * a date or time in words: a month or weekday name (or AM/PM, a zone like UTC) next to a
//    masked token is part of that value (`Sun Jul 17 04:05:59 2005`, `12 Mar 2024`);
//  * an optional parenthesised part that holds only values (`0 bytes (0.0 KB) sent` vs
//    `0 bytes sent`) is dropped: it adds no constant to the event;
//  * a run of values (a list of any length, `a, b, c`, a multi-token date) becomes one `<*>`,
//    keeping the punctuation in front of the first and behind the last value.
// A word next to nothing masked (`May I`, `on Monday`) is left alone.

/** English month and weekday names (3-letter and full), AM/PM and common zone names, lower case. */
const DATE_WORDS = new Set(
  (
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august " +
    "september october november december mon tue tues wed thu thur thurs fri sat sun monday tuesday " +
    "wednesday thursday friday saturday sunday am pm utc gmt z"
  ).split(" "),
);

/** `<*>` with nothing around it but brackets, quotes and punctuation: `<*>`, `[<*>]`, `<*>,`. */
function isWild(t: string): boolean {
  const at = t.indexOf(WILDCARD);
  if (at < 0) return false;
  for (let i = 0; i < at; i++) if (OPENERS.indexOf(t[i]) < 0) return false;
  for (let i = at + 3; i < t.length; i++) if (CLOSERS.indexOf(t[i]) < 0) return false;
  return true;
}

/** First three letters (lower case) of every DATE_WORDS entry, packed: a cheap first test. */
const DATE_PREFIXES = new Set([...DATE_WORDS].map((w) => packPrefix(w, 0, w.length)));

function packPrefix(t: string, a: number, b: number): number {
  let key = 0;
  for (let i = a; i < a + 3 && i < b; i++) key = key * 128 + (t.charCodeAt(i) | 32);
  return key;
}

/** A month/weekday/zone word, optionally with punctuation around it (`Jul`, `Mon,`, `(UTC)`). */
function isDateWord(t: string): boolean {
  if (t.length > 12) return false;
  let a = 0;
  while (a < t.length && OPENERS.indexOf(t[a]) >= 0) a++;
  let b = t.length;
  while (b > a && CLOSERS.indexOf(t[b - 1]) >= 0) b--;
  if (b - a < 1 || b - a > 9) return false;
  for (let i = a; i < b; i++) if (!isAlpha(t.charCodeAt(i))) return false;
  if (!DATE_PREFIXES.has(packPrefix(t, a, b))) return false;
  return DATE_WORDS.has(t.slice(a, b).toLowerCase());
}

function maskWord(t: string): string {
  let a = 0;
  while (a < t.length && OPENERS.indexOf(t[a]) >= 0) a++;
  let b = t.length;
  while (b > a && CLOSERS.indexOf(t[b - 1]) >= 0) b--;
  return t.slice(0, a) + WILDCARD + t.slice(b);
}

function collapseVariables(tokens: string[]): string[] {
  const n = tokens.length;
  if (n < 2 || !needsCollapse(tokens)) return tokens;
  const wild = new Array<boolean>(n);
  for (let i = 0; i < n; i++) wild[i] = isWild(tokens[i]);
  // Date words: a run of date words and values that holds at least one value.
  for (let i = 0; i < n; i++) {
    if (wild[i] || !isDateWord(tokens[i])) continue;
    let a = i;
    while (a > 0 && (wild[a - 1] || isDateWord(tokens[a - 1]))) a--;
    let b = i;
    while (b < n - 1 && (wild[b + 1] || isDateWord(tokens[b + 1]))) b++;
    let hasValue = false;
    for (let k = a; k <= b && !hasValue; k++) hasValue = wild[k];
    if (!hasValue) continue;
    for (let k = a; k <= b; k++) {
      if (!wild[k]) {
        tokens[k] = maskWord(tokens[k]);
        wild[k] = true;
      }
    }
  }
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = tokens[i];
    // A parenthesised part of values only, at most 4 tokens, not the whole line: dropped.
    if (t.charCodeAt(0) === 40 /* ( */ && wild[i]) {
      let end = -1;
      for (let k = i; k < n && k < i + 4 && wild[k]; k++) {
        if (closesParen(tokens[k], k === i)) {
          end = k;
          break;
        }
      }
      if (end >= 0 && (i > 0 || end < n - 1)) {
        // keep sentence punctuation that followed the closing paren: `(<*>),` -> `,`
        const tail = trailingAfterParen(tokens[end]);
        if (tail && out.length > 0) out[out.length - 1] += tail;
        i = end;
        continue;
      }
    }
    if (out.length > 0 && isRunContinuation(out[out.length - 1], t)) {
      out[out.length - 1] = joinRun(out[out.length - 1], t);
      continue;
    }
    out.push(t);
  }
  return out;
}

/**
 * Cheap pre-check (most lines have none of the three cases): a run of two values, a
 * parenthesised value, or a date word next to a value.
 */
function needsCollapse(tokens: string[]): boolean {
  let prevMasked = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const masked = t.indexOf(WILDCARD) >= 0;
    if (masked) {
      if (prevMasked && isRunContinuation(tokens[i - 1], t)) return true;
      if (t.charCodeAt(0) === 40 /* ( */) return true;
      if (isWild(t) && ((i > 0 && isDateWord(tokens[i - 1])) || (i + 1 < tokens.length && isDateWord(tokens[i + 1]))))
        return true;
    }
    prevMasked = masked;
  }
  return false;
}

/** Does `t` close a parenthesis (for the first token: one it also opened, `(<*>)`)? */
function closesParen(t: string, first: boolean): boolean {
  const at = t.lastIndexOf(WILDCARD);
  const close = t.indexOf(")", at + 3);
  return close >= 0 && (!first || t.charCodeAt(0) === 40);
}

function trailingAfterParen(t: string): string {
  const close = t.indexOf(")", t.lastIndexOf(WILDCARD) + 3);
  return t.slice(close + 1);
}

/**
 * Is `t` the next value of a run ending in `prev`? Both are the same masked value up to their
 * punctuation behind it (`<*>, <*>`, `[<*>] [<*>]`, `blk_<*>, blk_<*>`). Values with different
 * brackets in front (`<*> [<*>]`: a host and its address) stay apart, so a literal the masks
 * missed next to a masked value still lines up with the masked form of the same event.
 */
function isRunContinuation(prev: string, t: string): boolean {
  const end = valueEnd(t);
  if (end < 0 || end !== valueEnd(prev)) return false;
  for (let i = 0; i < end; i++) if (prev.charCodeAt(i) !== t.charCodeAt(i)) return false;
  // `alpha:<*> alpha:<*>` is two name:value pairs (two ports of one host), not a list of ids
  for (let i = 0; i < end - 3; i++) if (t.charCodeAt(i) === 58 || t.charCodeAt(i) === 61) return false;
  return true;
}

/** Index just past the last `<*>` if only closing punctuation follows it, else -1. */
function valueEnd(t: string): number {
  const at = t.lastIndexOf(WILDCARD);
  if (at < 0) return -1;
  for (let i = at + 3; i < t.length; i++) if (CLOSERS.indexOf(t[i]) < 0) return -1;
  return at + 3;
}

/** One value for a run: the first value with the punctuation behind the last. */
function joinRun(prev: string, t: string): string {
  return prev.slice(0, valueEnd(prev)) + t.slice(valueEnd(t));
}

/** Length of a leading byte unit: B, KB, MB, GB, TB, PB, KiB, MiB, … (0 if none). */
function unitLength(t: string): number {
  let i = 0;
  const c0 = t.charCodeAt(0);
  if (c0 === 75 || c0 === 77 || c0 === 71 || c0 === 84 || c0 === 80 || c0 === 107) {
    i = 1;
    if (t.charCodeAt(1) === 105) i = 2; // KiB
  }
  return t.charCodeAt(i) === 66 ? i + 1 : 0;
}

/** A byte unit, optionally followed by punctuation: `KB`, `B,`, `MiB)`. */
function isByteUnit(t: string): boolean {
  const u = unitLength(t);
  if (u === 0) return false;
  for (let i = u; i < t.length; i++) if (CLOSERS.indexOf(t[i]) < 0) return false;
  return true;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

/** Generic variable masking of a whole message: whitespace-collapsed, each variable as `<*>`. */
export function maskVariables(message: string): string {
  return tokenize(message).join(" ");
}
