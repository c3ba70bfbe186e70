// Log rows and the log detail dialog (served as /assets/log-view.js). Log text is attacker-
// controlled: it reaches the page only through textContent and attribute values, never markup.

const LEVELS = ["error", "warn", "info", "debug"];
/** Characters of a message shown in a one-line row; the detail view shows all of it. */
const ROW_MESSAGE_CHARS = 2000;
/** Array items and object keys shown per node of the metadata tree (metadata is ≤ 16 KiB anyway). */
const TREE_ITEMS = 200;
/** Fields shown first in the detail view, in this order; every other field follows by name. */
const FIELD_ORDER = [
  "id",
  "timestamp",
  "received_at",
  "level",
  "service",
  "domain",
  "request_id",
  "trace_id",
  "span_id",
  "user_id",
  "session_id",
  "category",
  "priority",
  "pattern_id",
  "seq",
  "truncated",
];
/** Fields with a section of their own. */
const BLOCKS = new Set(["message", "metadata", "context", "stack_trace"]);
/** Fields that link to a search for related logs. */
export const LINK_FIELDS = new Set(["request_id", "trace_id", "user_id", "session_id"]);

export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = String(text);
  return e;
}

export const levelOf = (x) => (LEVELS.includes(x) ? x : "info");
const pad = (n, w = 2) => String(n).padStart(w, "0");

export function fmtTime(ms, { date = false, millis = true } = {}) {
  const d = new Date(ms);
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const t = millis ? `${hms}.${pad(d.getMilliseconds(), 3)}` : hms;
  return date ? `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${t}` : t;
}

/**
 * One log as a list row: time, level, service, [matched fields], message. The row is focusable
 * and opens the detail view on click or Enter (the list delegates, see `bindRowOpen`).
 */
export function logRow(log, { fresh = false, date = false, matched } = {}) {
  const li = el("li", fresh ? "logrow fresh" : "logrow");
  li.dataset.id = log.id;
  li.tabIndex = 0;
  li.setAttribute("aria-haspopup", "dialog");
  const lv = levelOf(log.level);
  const svc = el("span", "s", log.service);
  svc.title = `${log.domain || "default"}/${log.service}`;
  const msg = String(log.message ?? "");
  li.append(el("span", "t", fmtTime(log.timestamp, { date })), el("span", `lv lv-${lv}`, lv), svc);
  if (matched) li.append(matchBadge(matched));
  li.append(el("span", "m", msg.length > ROW_MESSAGE_CHARS ? `${msg.slice(0, ROW_MESSAGE_CHARS)}…` : msg));
  li.title = `${new Date(log.timestamp).toISOString()} · Enter opens the full entry`;
  return li;
}

/** "matched: request_id" badge of a search result. */
export function matchBadge(fields) {
  const b = el("span", "match", fields.length ? fields.join(" · ") : "all");
  b.dataset.matched = fields.join(",");
  b.title = fields.length ? `matched on ${fields.join(", ")}` : "no text filter";
  return b;
}

/** Click or Enter/Space on a row of `list` calls `open(id)`; ↑/↓ move between rows. */
export function bindRowOpen(list, open) {
  list.addEventListener("click", (e) => {
    if (window.getSelection()?.toString()) return; // selecting text is not a click on the row
    const li = e.target.closest("li.logrow");
    if (li) open(li.dataset.id, li);
  });
  list.addEventListener("keydown", (e) => {
    const li = e.target.closest("li.logrow");
    if (!li) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      // move between rows without tabbing through hundreds of them
      let next = e.key === "ArrowDown" ? li.nextElementSibling : li.previousElementSibling;
      while (next && !next.classList.contains("logrow"))
        next = e.key === "ArrowDown" ? next.nextElementSibling : next.previousElementSibling;
      if (next) {
        e.preventDefault();
        next.focus();
      }
      return;
    }
    if (e.key !== "Enter" && e.key !== " ") return;
    e.preventDefault();
    open(li.dataset.id, li);
  });
}

function scalarText(v) {
  if (v === null) return "null";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** A JSON value as a tree of <details>: objects and arrays fold, leaves show typed values. */
export function jsonTree(value, depth = 0) {
  if (value === null || typeof value !== "object") {
    return el("span", `v v-${value === null ? "null" : typeof value}`, scalarText(value));
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  const ul = el("ul", "tree");
  ul.setAttribute("role", "group");
  for (const [k, v] of entries.slice(0, TREE_ITEMS)) {
    const li = el("li");
    if (v !== null && typeof v === "object") {
      const details = el("details");
      details.open = depth < 3;
      const summary = el("summary");
      const size = Array.isArray(v) ? `[${v.length}]` : `{${Object.keys(v).length}}`;
      summary.append(el("span", "k", k), el("span", "muted", ` ${size}`));
      details.append(summary, jsonTree(v, depth + 1));
      li.append(details);
    } else {
      li.append(el("span", "k", k), el("span", "colon", ": "), jsonTree(v, depth + 1));
    }
    ul.append(li);
  }
  if (entries.length > TREE_ITEMS) ul.append(el("li", "muted", `… ${entries.length - TREE_ITEMS} more`));
  return ul;
}

function fieldValue(key, value, actions) {
  if (LINK_FIELDS.has(key) && typeof value === "string") {
    const a = el("a", "idlink", value);
    a.href = actions.hrefFor(`${key}:${value}`);
    a.title = `search logs with ${key} = ${value}`;
    a.addEventListener("click", (e) => {
      if (e.metaKey || e.ctrlKey || e.shiftKey) return; // let the browser open a new tab
      e.preventDefault();
      actions.searchText(`${key}:${value}`);
    });
    return a;
  }
  if (key === "pattern_id" && typeof value === "string") {
    const b = el("button", "linklike", value);
    b.type = "button";
    b.title = "filter the tail and the search to this pattern";
    b.addEventListener("click", () => actions.filterPattern(value));
    return b;
  }
  if ((key === "timestamp" || key === "received_at") && typeof value === "number") {
    const span = el("span", "v", `${new Date(value).toISOString()}  (${value})`);
    return span;
  }
  if (value !== null && typeof value === "object") return jsonTree(value);
  return el("span", `v v-${value === null ? "null" : typeof value}`, scalarText(value));
}

/**
 * Fills the detail dialog's body with every field of `entry`. `actions`: `searchText(text)`,
 * `filterPattern(id)`, `hrefFor(text)` (the shareable URL of that search).
 */
export function renderDetail(body, entry, actions) {
  const lv = levelOf(entry.level);
  const head = el("div", "detail-summary");
  head.append(
    el("span", `lv lv-${lv}`, lv),
    el("span", "t", new Date(entry.timestamp).toISOString()),
    el("span", "s", `${entry.domain || "default"}/${entry.service}`),
  );
  const message = el("pre", "detail-message", entry.message ?? "");
  message.setAttribute("aria-label", "message");

  const dl = el("dl", "fields");
  const keys = Object.keys(entry).filter((k) => !BLOCKS.has(k));
  const ordered = [
    ...FIELD_ORDER.filter((k) => keys.includes(k)),
    ...keys.filter((k) => !FIELD_ORDER.includes(k)).sort(),
  ];
  for (const k of ordered) {
    const dd = el("dd");
    dd.dataset.field = k;
    dd.append(fieldValue(k, entry[k], actions));
    dl.append(el("dt", "", k), dd);
  }

  const sections = [head, message, dl];
  for (const [key, title] of [
    ["context", "context"],
    ["metadata", "metadata"],
  ]) {
    if (entry[key] === undefined) continue;
    const sec = el("section", `detail-${key}`);
    sec.append(el("h3", "", title), jsonTree(entry[key]));
    sections.push(sec);
  }
  if (entry.stack_trace) {
    const sec = el("section", "detail-stack");
    sec.append(el("h3", "", "stack trace"), el("pre", "stack", entry.stack_trace));
    sections.push(sec);
  }
  body.replaceChildren(...sections);
}

/** Copies text to the clipboard; falls back to a selected, hidden textarea and execCommand. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = el("textarea", "offscreen");
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}
