// The dashboard's view in the URL (served as /assets/view-state.js), so a link shows someone else
// the same thing: selected service, services filter and sort, log filters, tab and time range.
// Never the key: `token`, `key` and anything unknown are dropped when the URL is rewritten.
// No DOM here; tested in Node (test/e2e/dashboard-logic.e2e.test.ts).

export const LEVELS = ["error", "warn", "info", "debug"];
export const RANGES = {
  "15m": 15 * 60_000,
  "1h": 3_600_000,
  "6h": 6 * 3_600_000,
  "24h": 86_400_000,
  "7d": 7 * 86_400_000,
};

export const DEFAULT_VIEW = Object.freeze({
  service: "", // the service whose chart, rate and patterns are shown
  svc: "", // services filter box
  sort: "", // "" = auto (worst first when anything is breached)
  tab: "live", // live | search
  logService: "", // log filters, shared by the tail and the search
  levels: LEVELS,
  q: "",
  pattern: "",
  range: "1h", // a RANGES key or "custom"
  from: null, // custom range, ms
  to: null,
});

const SERVICE_RE = /^[A-Za-z0-9._-]{1,128}$/;
const msOrNull = (v) => (v !== null && /^\d{1,15}$/.test(v) ? Number(v) : null);

/** Reads a query string; invalid values fall back to the default (a shared link never breaks the page). */
export function readView(search) {
  const p = new URLSearchParams(search);
  const v = { ...DEFAULT_VIEW };
  const service = p.get("service") || "";
  if (SERVICE_RE.test(service)) v.service = service;
  v.svc = (p.get("svc") || "").slice(0, 128);
  if (["name", "volume", "errors", "rate"].includes(p.get("sort"))) v.sort = p.get("sort");
  if (p.get("tab") === "search") v.tab = "search";
  const logService = p.get("log_service") || "";
  if (SERVICE_RE.test(logService)) v.logService = logService;
  if (p.has("level")) {
    const levels = p
      .get("level")
      .split(",")
      .filter((l) => LEVELS.includes(l));
    if (levels.length) v.levels = LEVELS.filter((l) => levels.includes(l));
  }
  v.q = (p.get("q") || "").slice(0, 1024);
  const pattern = p.get("pattern") || "";
  if (/^[A-Za-z0-9_-]{1,64}$/.test(pattern)) v.pattern = pattern;
  const range = p.get("range");
  if (range === "custom") {
    const from = msOrNull(p.get("from"));
    const to = msOrNull(p.get("to"));
    if (from !== null && to !== null && from <= to) Object.assign(v, { range, from, to });
  } else if (range && Object.hasOwn(RANGES, range)) v.range = range;
  return v;
}

/** The query string for a view: only what differs from the default, in a fixed order. */
export function writeView(view) {
  const p = new URLSearchParams();
  if (view.service) p.set("service", view.service);
  if (view.svc) p.set("svc", view.svc);
  if (view.sort) p.set("sort", view.sort);
  if (view.tab === "search") p.set("tab", "search");
  if (view.logService) p.set("log_service", view.logService);
  if (view.levels.length && view.levels.length < LEVELS.length) p.set("level", view.levels.join(","));
  if (view.q) p.set("q", view.q);
  if (view.pattern) p.set("pattern", view.pattern);
  if (view.range === "custom" && view.from !== null && view.to !== null) {
    p.set("range", "custom");
    p.set("from", String(view.from));
    p.set("to", String(view.to));
  } else if (view.range !== DEFAULT_VIEW.range && Object.hasOwn(RANGES, view.range)) p.set("range", view.range);
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** `{ start, end }` in ms for the view's time range at `now`. */
export function rangeBounds(view, now) {
  if (view.range === "custom" && view.from !== null && view.to !== null) return { start: view.from, end: view.to };
  return { start: now - (RANGES[view.range] ?? RANGES["1h"]), end: now };
}
