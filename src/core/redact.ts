// PII and secret redaction, applied by the ingest path (src/schema/ingest.ts validateEntries)
// before entries reach the LogAggregator, so storage, tail, search, patterns and the data
// service only ever see redacted text. Pure: no Workers or Node APIs; unit and property tests
// in test/unit/redact.test.ts and test/unit/property.test.ts.
//
// Rules (REDACT env var, parsed by parseRedactSetting; default email,card,secret,url_password):
//   email         alice@example.com                       → [email]
//   card          4111 1111 1111 1111 (13–19 digits, spaces/dashes, IIN 2–6, Luhn-valid) → [card]
//   secret        Bearer/Basic tokens, Authorization:/Cookie: values, key=value after a secret-
//                 sounding key (password, token, api_key, secret, …), well-known key shapes
//                 (sk_live_…, AKIA…, ghp_…, xoxb-…, AIza…, JWTs, PEM private keys), and in
//                 metadata every value under a secret-sounding key   → [secret]
//   url_password  scheme://user:password@host              → scheme://user:[secret]@host
//   ip            IPv4/IPv6 addresses, and context.ip       → [ip]   (opt-in)
//
// Every rule runs in time linear in the input: each regex either has bounded quantifiers or
// ends in a greedy run with no mandatory tail (candidates are then checked in code), and the
// e-mail and PEM scanners are hand-written. Redaction is idempotent (passes repeat until nothing
// changes, see redactText) and keeps fields within LIMITS (a marker can be longer than what it
// replaces). Decisions (no "redacted" flag, what is not covered) are in README "Security".
import { LIMITS, truncateUtf8, utf8Length } from "../schema/log-entry.js";

export const REDACT_RULES = ["email", "card", "secret", "url_password", "ip"] as const;
export type RedactRule = (typeof REDACT_RULES)[number];
export type RedactionOptions = Readonly<Record<RedactRule, boolean>>;

export const DEFAULT_REDACTION: RedactionOptions = {
  email: true,
  card: true,
  secret: true,
  url_password: true,
  ip: false,
};
export const NO_REDACTION: RedactionOptions = {
  email: false,
  card: false,
  secret: false,
  url_password: false,
  ip: false,
};

/**
 * `REDACT`: unset or empty = the default set; `none` = off; otherwise a comma list of rule
 * names (exactly those are on, so `ip` alone turns the defaults off: write `email,card,secret,url_password,ip`
 * to add it). Returns an error text naming the problem for anything else.
 */
export function parseRedactSetting(raw: string | undefined): RedactionOptions | string {
  if (raw === undefined || raw.trim() === "") return DEFAULT_REDACTION;
  const parts = raw.split(",").map((p) => p.trim().toLowerCase());
  if (parts.length === 1 && parts[0] === "none") return NO_REDACTION;
  const out: Record<RedactRule, boolean> = { ...NO_REDACTION };
  for (const p of parts) {
    if (!(REDACT_RULES as readonly string[]).includes(p)) {
      return `REDACT must be "none" or a comma list of ${REDACT_RULES.join(", ")} (got "${p.slice(0, 32)}")`;
    }
    out[p as RedactRule] = true;
  }
  return out;
}

export const MARKERS = { email: "[email]", card: "[card]", secret: "[secret]", ip: "[ip]" } as const;

// ---------------------------------------------------------------------------------------------
// Text rules

/** Applies the enabled rules to one string. Order matters: context rules before shape rules. */
export function redactText(text: string, options: RedactionOptions): string {
  // A marker next to text that a word-boundary rule skipped can make it match ("1.2.3.4sk_live_…"
  // → "[ip]sk_live_…"), so passes repeat until nothing changes: that is what makes redaction
  // idempotent. Clean text costs one pass; each extra pass needs a new marker boundary.
  let s = text;
  for (let pass = 0; pass < 4; pass++) {
    const next = redactPass(s, options);
    if (next === s) return s;
    s = next;
  }
  return s;
}

function redactPass(text: string, options: RedactionOptions): string {
  if (text.length === 0) return text;
  let s = text;
  if (options.url_password) s = redactUrlPasswords(s);
  if (options.secret) s = redactSecrets(s);
  if (options.email) s = redactEmails(s);
  if (options.card) s = redactCards(s);
  if (options.ip) s = redactIps(s);
  return s;
}

// scheme://user:password@host. User and password may not hold whitespace, / ? # @; the
// password keeps any `:`. Quantifiers are bounded, so a failing candidate costs O(256).
const URL_PASSWORD_RE = /([A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/)([^\s:/?#@]{0,256}):([^\s/?#@]{1,256})@/g;

export function redactUrlPasswords(s: string): string {
  if (!s.includes("://")) return s;
  return s.replace(URL_PASSWORD_RE, (_m, scheme: string, user: string) => `${scheme}${user}:${MARKERS.secret}@`);
}

/** A token worth hiding: 8+ chars and not a plain word (a digit, punctuation, or an inner capital). */
function looksLikeToken(t: string): boolean {
  return t.length >= 8 && (/[0-9._~+/=-]/.test(t) || /.[A-Z]/.test(t));
}

// `Authorization: Bearer x`, `"authorization":"Basic x"`, `Proxy-Authorization=…`: the value
// (after an optional scheme word) is hidden whatever its shape.
const AUTH_HEADER_RE =
  /\b((?:proxy-)?authorization["']?\s{0,16}[:=]\s{0,16}["']?)(?:(basic|bearer|digest|token|negotiate|apikey|hmac|aws4-hmac-sha256)\s{1,16})?(?!(?:basic|bearer|digest|token|negotiate|apikey|hmac|aws4-hmac-sha256)\s)(?!\[secret\])([^\s"',;&}]+)/gi;
// `Cookie: a=b; c=d` / `Set-Cookie: …`: to the end of the line or quote.
const COOKIE_HEADER_RE = /\b((?:set-)?cookie["']?\s{0,16}:\s{0,16}["']?)(?!\[secret\])([^\s"'][^\r\n"']*)/gi;
// Bearer/Basic credentials outside a header name ("sent Bearer abc.def").
const SCHEME_TOKEN_RE = /\b(bearer|basic)(\s{1,16})(?!\[secret\])([A-Za-z0-9._~+/=-]+)/gi;
// key=value, key: value, "key":"value" after a secret-sounding key. The key must start a word
// (csrf_token and db_password match: `_` is not alphanumeric).
const KEY_VALUE_RE =
  /(?<![A-Za-z0-9])((?:api[_-]?key|access[_-]?key|secret(?:[_-]?(?:access[_-]?)?key)?|token|password|passwd|pwd|private[_-]?key|signature|sig)["']?\s{0,16}[:=]\s{0,16}["']?)(?!\[secret\])([^\s"'&,;}]+)/gi;
// Well-known key shapes. Each ends in a greedy run (or a fixed count), so nothing backtracks.
const KEY_SHAPES: RegExp[] = [
  /\b(?:sk|pk|rk)_(?:live|test)_[0-9A-Za-z]{8,}/g, // Stripe
  /\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}/g, // OpenAI / Anthropic style
  /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/g, // AWS access key ids
  /\bgh[pousr]_[A-Za-z0-9]{30,}/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bglpat-[A-Za-z0-9_-]{20,}/g, // GitLab
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, // Slack
  /\bAIza[0-9A-Za-z_-]{35}/g, // Google API keys
  /\bnpm_[A-Za-z0-9]{36}/g,
];
// A JWT candidate: a run of base64url and dots from `eyJ`; checked in code (3 parts, 2nd `eyJ`).
const JWT_CANDIDATE_RE = /\beyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}/g;

// Every secret rule above needs one of these words or prefixes (case folded, so a superset):
// one scan of clean text replaces the fourteen scans of the rules. A rule added above must add
// its trigger here; test/unit/redact.test.ts checks the two paths agree on generated text.
const SECRET_TRIGGER_RE =
  /authorization|cookie|bearer|basic|api[_-]?key|access[_-]?key|secret|token|passw|pwd|private[_-]?key|sig|[spr]k_|sk-|A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|AIza|npm_|eyJ|-----BEGIN /i;

export function redactSecrets(input: string): string {
  return SECRET_TRIGGER_RE.test(input) ? applySecretRules(input) : input;
}

/** Every secret rule, without the trigger prefilter (exported for the test that compares them). */
export function applySecretRules(input: string): string {
  let s = redactPrivateKeys(input);
  s = s.replace(
    AUTH_HEADER_RE,
    (_m, head: string, scheme: string | undefined) => `${head}${scheme ? `${scheme} ` : ""}${MARKERS.secret}`,
  );
  s = s.replace(COOKIE_HEADER_RE, (_m, head: string) => `${head}${MARKERS.secret}`);
  s = s.replace(SCHEME_TOKEN_RE, (m, scheme: string, space: string, token: string) =>
    looksLikeToken(token) ? `${scheme}${space}${MARKERS.secret}` : m,
  );
  s = s.replace(KEY_VALUE_RE, (_m, head: string) => `${head}${MARKERS.secret}`);
  for (const re of KEY_SHAPES) s = s.replace(re, MARKERS.secret);
  if (s.includes("eyJ")) {
    s = s.replace(JWT_CANDIDATE_RE, (m) => {
      const parts = m.split(".");
      return parts.length === 3 && parts[0].length >= 10 && parts[1].startsWith("eyJ") && parts[1].length >= 10
        ? MARKERS.secret
        : m;
    });
  }
  return s;
}

/** PEM private key blocks; a BEGIN with no END hides everything after it. indexOf keeps it linear. */
function redactPrivateKeys(s: string): string {
  const BEGIN = "-----BEGIN ";
  if (!s.includes(BEGIN)) return s;
  let out = "";
  let from = 0;
  for (;;) {
    const b = s.indexOf(BEGIN, from);
    if (b < 0) break;
    const headEnd = s.indexOf("-----", b + BEGIN.length);
    const label = headEnd < 0 ? "" : s.slice(b + BEGIN.length, headEnd);
    if (headEnd < 0 || headEnd - b > 80 || !/^[A-Z0-9 ]*PRIVATE KEY$/.test(label)) {
      out += s.slice(from, b + BEGIN.length);
      from = b + BEGIN.length;
      continue;
    }
    const endMarker = `-----END ${label}-----`;
    const e = s.indexOf(endMarker, headEnd + 5);
    out += s.slice(from, b) + MARKERS.secret;
    if (e < 0) return out;
    from = e + endMarker.length;
  }
  return out + s.slice(from);
}

// E-mail: a hand-written scan from each `@` (a regex with an unbounded local part is quadratic
// on long runs of letters). Local part: RFC 5322 atext subset; domain: labels, a TLD of 2+ letters.
const isLocalChar = (c: number) =>
  (c >= 0x30 && c <= 0x39) ||
  (c >= 0x41 && c <= 0x5a) ||
  (c >= 0x61 && c <= 0x7a) ||
  c === 0x2e ||
  c === 0x5f ||
  c === 0x25 ||
  c === 0x2b ||
  c === 0x2d ||
  c === 0x27;
const isDomainChar = (c: number) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2e || c === 0x2d;

export function redactEmails(s: string): string {
  if (!s.includes("@")) return s;
  let out = "";
  let copied = 0; // s[0..copied) is in out
  let at = s.indexOf("@");
  while (at >= 0) {
    let start = at;
    while (start > copied && isLocalChar(s.charCodeAt(start - 1))) start--;
    // a local part doesn't start with a dot or quote ("x.'alice@…" → alice@…)
    while (start < at && (s[start] === "." || s[start] === "'")) start++;
    let end = at + 1;
    while (end < s.length && isDomainChar(s.charCodeAt(end))) end++;
    // trailing dots/dashes belong to the sentence, not the domain
    while (end > at + 1 && (s[end - 1] === "." || s[end - 1] === "-")) end--;
    // "alice@example.com.5": the longest prefix of whole labels that is a valid domain
    let domain = s.slice(at + 1, end);
    // ("example.com0" → "example.com": a TLD is letters, so cut the last label to its letters)
    while (!validDomain(domain)) {
      const dot = domain.lastIndexOf(".");
      if (dot <= 0) break;
      const tld = domain.slice(dot + 1);
      const letters = /^[A-Za-z]{2,24}/.exec(tld)?.[0];
      domain = letters && letters.length < tld.length ? domain.slice(0, dot + 1) + letters : domain.slice(0, dot);
    }
    end = at + 1 + domain.length;
    if (start < at && validDomain(domain)) {
      out += s.slice(copied, start) + MARKERS.email;
      copied = end;
      at = s.indexOf("@", end);
    } else {
      at = s.indexOf("@", at + 1);
    }
  }
  return out + s.slice(copied);
}

function validDomain(d: string): boolean {
  if (d.length < 4 || d.length > 253) return false;
  const labels = d.split(".");
  if (labels.length < 2) return false;
  if (!labels.every((l) => l.length >= 1 && l.length <= 63 && l[0] !== "-" && l[l.length - 1] !== "-")) return false;
  return /^[A-Za-z]{2,24}$/.test(labels[labels.length - 1]);
}

// Card numbers: maximal runs of digit groups joined by single spaces or dashes, not touching
// letters or digits. Inside a run, any window of whole groups that has card shape (one group of
// 13–19 digits, or groups of 4–6 digits with a last group of 1–6), starts with 2–6 (Visa,
// Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro: ms timestamps start with 1 until
// 2033) and passes Luhn becomes [card]. Longest window first, left to right.
const DIGIT_RUN_RE = /(?<![0-9A-Za-z_.])\d+(?:[ -]\d+)*(?![0-9A-Za-z_])/g;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** Whether groups[from..to] (whole groups) have card shape, a 2–6 first digit and a valid Luhn sum. */
function isCard(groups: string[], from: number, to: number): boolean {
  let digits = "";
  for (let g = from; g <= to; g++) digits += groups[g];
  if (digits.length < 13 || digits.length > 19) return false;
  if (from !== to) {
    for (let g = from; g < to; g++) if (groups[g].length < 4 || groups[g].length > 6) return false;
    if (groups[to].length > 6) return false;
  }
  const first = digits.charCodeAt(0) - 48;
  return first >= 2 && first <= 6 && luhnValid(digits);
}

/** The last group of the longest card window starting at group i, or -1. */
function longestCardFrom(groups: string[], i: number): number {
  // a window that starts with a group of 1–3 digits can't be a card
  if (groups[i].length < 4) return -1;
  // widen while the window stays within 19 digits; a middle group must have 4–6 digits
  let last = i;
  let digits = groups[i].length;
  while (last + 1 < groups.length && groups[last].length <= 6 && digits + groups[last + 1].length <= 19) {
    last++;
    digits += groups[last].length;
  }
  for (let j = last; j >= i; j--) if (isCard(groups, i, j)) return j;
  return -1;
}

// A card has at least 13 digits with at most one space or dash between two of them: text
// without such a run (most numbers in logs: ids, durations, counts) skips the run-by-run rule.
const CARD_CANDIDATE_RE = /\d(?:[ -]?\d){12}/;

export function redactCards(s: string): string {
  if (!CARD_CANDIDATE_RE.test(s)) return s;
  return s.replace(DIGIT_RUN_RE, (run) => {
    if (run.length < 13) return run;
    const groups = run.split(/[ -]/);
    const seps = run.match(/[ -]/g) ?? [];
    let out = "";
    let i = 0;
    while (i < groups.length) {
      const matched = longestCardFrom(groups, i);
      if (matched >= 0) {
        out += MARKERS.card;
        i = matched + 1;
      } else {
        out += groups[i];
        i++;
      }
      if (i < groups.length) out += seps[i - 1];
    }
    return out;
  });
}

// IP addresses (opt-in). IPv4 dotted quads with octets ≤ 255; IPv6 candidates (hex groups and
// colons, optionally an IPv4 tail) are parsed in code, so times (12:30:45) and MACs don't match.
const IPV4_RE = /(?<![0-9A-Za-z_.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![0-9A-Za-z_]|\.\d)/g;
const IPV6_RE =
  /(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?(?![0-9A-Za-z:]|\.\d)/g;

export function isIpv6(c: string): boolean {
  let groups = 0;
  let text = c;
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    if (v4.slice(1).some((o) => Number(o) > 255)) return false;
    text = text.slice(0, v4.index);
    if (!text.endsWith(":")) return false;
    text = text.endsWith("::") ? text : text.slice(0, -1);
    groups += 2;
  }
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const count = (h: string) => (h === "" ? 0 : h.split(":").length);
  for (const h of halves) if (h !== "" && !h.split(":").every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  groups += halves.reduce((a, h) => a + count(h), 0);
  return halves.length === 2 ? groups >= 1 && groups <= 7 : groups === 8;
}

export function redactIps(s: string): string {
  let out = s;
  if (/\d\.\d/.test(out)) {
    out = out.replace(IPV4_RE, (m, a: string, b: string, c: string, d: string) =>
      [a, b, c, d].every((o) => Number(o) <= 255) ? MARKERS.ip : m,
    );
  }
  if (out.includes(":")) out = out.replace(IPV6_RE, (m) => (isIpv6(m) ? MARKERS.ip : m));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Entries

/** The fields redaction looks at; everything else passes through untouched. */
export interface RedactableEntry {
  message?: unknown;
  stack_trace?: unknown;
  user_id?: unknown;
  metadata?: unknown;
  context?: unknown;
}

/** Metadata keys whose values are secrets whatever they look like (compared without `-`/`_`, lower case). */
const SECRET_KEY_EXACT = new Set([
  "authorization",
  "proxyauthorization",
  "cookie",
  "setcookie",
  "credentials",
  "credential",
  "pwd",
  "pass",
  "passphrase",
  "sig",
  "signature",
  "xapikey",
  "auth",
]);
const SECRET_KEY_SUFFIX = ["password", "passwd", "secret", "token", "apikey", "accesskey", "privatekey", "sessionkey"];

export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_\s]/g, "");
  return SECRET_KEY_EXACT.has(k) || SECRET_KEY_SUFFIX.some((s) => k.endsWith(s));
}

/** Defensive caps for arbitrary input: validated metadata is far inside them (depth 8, 16 KiB). */
const MAX_WALK_DEPTH = 32;
const MAX_WALK_NODES = 50_000;
const TOO_DEEP = "[redacted]";

function redactValue(
  value: unknown,
  options: RedactionOptions,
  secret: boolean,
  depth: number,
  budget: { nodes: number },
): unknown {
  if (--budget.nodes < 0 || depth > MAX_WALK_DEPTH) return TOO_DEEP;
  if (typeof value === "string") {
    if (secret) return MARKERS.secret;
    return redactText(value, options);
  }
  if (typeof value === "number" || typeof value === "bigint") {
    // a number under a secret key (pin, token) is hidden; other numbers go through the card rule
    if (secret) return MARKERS.secret;
    if (options.card && typeof value === "number" && Number.isSafeInteger(value) && value >= 1e12) {
      const r = redactCards(String(value));
      return r === String(value) ? value : r;
    }
    return value;
  }
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, options, secret, depth + 1, budget));
  // Object.fromEntries defines own properties, so a "__proto__" key can't reach the prototype.
  return Object.fromEntries(
    Object.keys(value).map((k) => [
      k,
      redactValue(
        (value as Record<string, unknown>)[k],
        options,
        secret || (options.secret && isSecretKey(k)),
        depth + 1,
        budget,
      ),
    ]),
  );
}

function anyEnabled(o: RedactionOptions): boolean {
  return o.email || o.card || o.secret || o.url_password || o.ip;
}

function serialisedBytes(v: unknown): number {
  try {
    return utf8Length(JSON.stringify(v) ?? "");
  } catch {
    return Number.POSITIVE_INFINITY; // not JSON (bigint, cycle): can't come from a request body
  }
}

/**
 * Redacts and keeps the result within maxBytes. Cutting can expose a new candidate at the cut
 * (a 17-digit number cut to 16 digits), so the cut text is redacted again; markers are short,
 * so this settles at once in practice; three rounds bound it.
 */
function redactWithin(text: string, options: RedactionOptions, maxBytes: number): string {
  let r = redactText(text, options);
  for (let round = 0; round < 3 && utf8Length(r) > maxBytes; round++)
    r = redactText(truncateUtf8(r, maxBytes), options);
  return truncateUtf8(r, maxBytes);
}

function clampChars(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) : s;
}

/**
 * A redacted copy of `entry` (the input is not modified; with every rule off it is returned as
 * is). Covers message, stack_trace, user_id, context.url/method/ip (ip rule: the whole ip value)
 * and metadata (every string value, deeply; values under secret-sounding keys wholesale).
 * Not covered: ids, service/domain names, session_id/request_id (correlation keys, and a
 * stored session id is only as secret as the client made it), metadata keys.
 *
 * Markers can be longer than what they replace, so fields are cut back to their LIMITS:
 * stack_trace and metadata by bytes, user_id and context.url by characters. The message is cut
 * (and flagged `truncated`) by normaliseEntry, which runs after this. Metadata that redaction
 * pushed past LIMITS.metadataBytes is replaced by `{ "[redacted]": "metadata too large after redaction" }`.
 * No flag marks an entry as redacted: the markers themselves say what was there.
 */
export function redactEntry<T extends RedactableEntry>(entry: T, options: RedactionOptions): T {
  if (!anyEnabled(options) || typeof entry !== "object" || entry === null) return entry;
  const out: T = { ...entry };
  if (typeof entry.message === "string") out.message = redactText(entry.message, options);
  if (typeof entry.stack_trace === "string")
    out.stack_trace = redactWithin(entry.stack_trace, options, LIMITS.stackTraceBytes);
  if (typeof entry.user_id === "string")
    out.user_id = clampChars(redactText(entry.user_id, options), LIMITS.refFieldChars);
  if (entry.context !== undefined) {
    // validated context is { url, method, ip } strings; anything else is walked like metadata
    const ctx = redactValue(entry.context, options, false, 1, { nodes: MAX_WALK_NODES });
    if (typeof ctx === "object" && ctx !== null && !Array.isArray(ctx)) {
      const c = ctx as Record<string, unknown>;
      if (typeof c.url === "string") c.url = clampChars(c.url, LIMITS.urlChars);
      if (typeof c.method === "string") c.method = clampChars(c.method, 16);
      if (typeof c.ip === "string") c.ip = options.ip && c.ip !== "" ? MARKERS.ip : clampChars(c.ip, 64);
    }
    out.context = ctx;
  }
  if (entry.metadata !== undefined) {
    let meta = redactValue(entry.metadata, options, false, 1, { nodes: MAX_WALK_NODES });
    if (serialisedBytes(meta) > LIMITS.metadataBytes) {
      meta = { [TOO_DEEP]: "metadata too large after redaction" };
    }
    out.metadata = meta;
  }
  return out;
}
