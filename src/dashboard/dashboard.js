// edge-logger dashboard client (served as /assets/dashboard.js, an ES module, by
// src/http/dashboard.ts). Plain browser JS, no build step. It reads with a key kept in
// localStorage, polls the stats endpoints every few seconds, follows the live tail WebSocket
// (resuming with `since=<cursor>` after a drop) and runs history searches. The view (selected
// service, filters, time range, tab) lives in the URL; the key never does. Log text only ever
// reaches the page through textContent (log-view.js), never innerHTML.
import { bindRowOpen, copyText, el, fmtTime, logRow, matchBadge, renderDetail } from "./log-view.js";
import { MergedSearch, looksLikeId, matchFields, planSearches, SearchError } from "./history-search.js";
import {
  effectiveSort,
  filterServices,
  groupServices,
  ServicesTable,
  sortServices,
  withMetrics,
} from "./services-table.js";
import { LEVELS, rangeBounds, readView, writeView } from "./view-state.js";

const KEY_STORAGE = "edge-logger.read-key";
const COLORS = { error: "#f0616d", warn: "#f5a524", info: "#4ea1ff", debug: "#8b95a7" };
const POLL_MS = 5000; // services, stats, error rate
const POLL_SOON_MIN_MS = 2500; // live logs trigger an earlier poll, but not more often than this
const PATTERNS_MS = 30_000; // patterns change slowly and come from the data service
const TAIL_MAX = 500; // rows kept in the tail pane; older rows leave the DOM and the id map
const PAUSE_MAX = 2000; // logs buffered while paused; older ones are dropped (and counted)
const SEARCH_PAGE = 100;
const SEARCH_MAX_ROWS = 2000; // results kept per search; then "refine the search"
const MIN_EVENTS = 20;
const PING_MS = 20_000;
/** The tail's since= must fit the server's 8 KiB query limit; a longer cursor resumes live only. */
const MAX_SINCE_CHARS = 7000;

const $ = (id) => document.getElementById(id);

const view = readView(location.search);
const state = {
  key: localStorage.getItem(KEY_STORAGE) || "",
  groups: [], // from GET /api/services, one per service name
  serviceNames: "",
  table: null,
  revealed: false, // the selected service was scrolled into view once
  chart: null,
  ws: null,
  cursor: null,
  backoffMs: 1000,
  reconnectTimer: 0,
  pingTimer: 0,
  pollTimer: 0,
  lastPollAt: 0,
  patternsAt: 0,
  patternNames: new Map(), // pattern id → template, for the filter chip
  burstTimer: 0,
  paused: false,
  pausedLogs: [],
  pausedDropped: 0,
  tailLogs: new Map(), // id → entry of the rows in the tail pane (≤ TAIL_MAX)
  clientText: "", // text the tail filters in the browser (ids; the server's q is message-only)
  search: null,
  searchSeq: 0,
  resultLogs: new Map(), // id → { log, li } of the search results (≤ SEARCH_MAX_ROWS)
  searchStale: true,
  detail: null, // the entry in the detail dialog
  running: false,
};

class AuthError extends Error {}

// -------------------------------------------------------------------------------------------
// small helpers

const fmtInt = (n) => Number(n || 0).toLocaleString("en-US");

function fmtPct(r) {
  if (!Number.isFinite(r)) return "–";
  const p = r * 100;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

async function api(path) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${state.key}` }, cache: "no-store" });
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (res.status === 401) throw new AuthError(body?.error?.message || "the key was rejected");
  return { status: res.status, body };
}

function setStatus(kind, text) {
  const s = $("status");
  s.className = `pill pill-${kind}`;
  s.textContent = text;
}

const thresholdFrac = () => Math.min(1, Math.max(0, Number($("threshold").value) / 100 || 0));

function saveView() {
  history.replaceState(null, "", `${location.pathname}${writeView(view)}`);
}

// -------------------------------------------------------------------------------------------
// the read key

function openKeyDialog(message, value = state.key) {
  const err = $("key-error");
  err.hidden = !message;
  err.textContent = message || "";
  $("key-input").value = value;
  if (!$("key-dialog").open) $("key-dialog").showModal();
  $("key-input").focus();
}

async function onKeySubmit(ev) {
  ev.preventDefault();
  const key = $("key-input").value.trim();
  if (!key) return;
  const previous = state.key;
  state.key = key;
  try {
    const { status, body } = await api("/api/services");
    if (status !== 200) throw new AuthError(body?.error?.message || `HTTP ${status}`);
  } catch (e) {
    state.key = previous;
    openKeyDialog(
      e instanceof AuthError ? `Key rejected: ${e.message}` : `Could not reach the logger: ${e.message}`,
      key,
    );
    return;
  }
  localStorage.setItem(KEY_STORAGE, key);
  $("key-dialog").close();
  start();
}

function forgetKey() {
  localStorage.removeItem(KEY_STORAGE);
  state.key = "";
  stop();
  setStatus("idle", "no key");
  openKeyDialog("");
}

// -------------------------------------------------------------------------------------------
// services panel

async function refreshServices() {
  const { status, body } = await api("/api/services");
  if (status === 403) throw new AuthError(body?.error?.message || "this key may not read");
  if (status !== 200) throw new Error(body?.error?.message || `GET /api/services: HTTP ${status}`);
  state.groups = groupServices(body.services || []);
  renderServices();
  renderServiceNames();
}

function renderServices() {
  const all = state.groups.map((g) => withMetrics(g, thresholdFrac(), MIN_EVENTS));
  const sort = effectiveSort(view.sort, all);
  const rows = sortServices(filterServices(all, view.svc), sort);
  if (!view.service && rows.length) {
    view.service = rows[0].service; // worst (or first) service until the user picks one
    saveView();
    state.patternsAt = 0;
  }
  state.table.setRows(rows, view.service);
  if (!state.revealed && rows.length) {
    // first list after load: a shared link's service may be row 900, so bring it into view
    state.revealed = true;
    const i = rows.findIndex((r) => r.service === view.service);
    if (i > 0) state.table.focusIndex(i);
  }
  const scroller = $("services-scroll");
  scroller.dataset.sort = sort;
  scroller.dataset.rows = String(rows.length);
  $("services-count").textContent =
    rows.length === all.length ? `(${all.length})` : `(${rows.length} of ${all.length})`;
  $("services-empty").hidden = all.length > 0;
  $("services-empty").textContent =
    all.length && !rows.length ? "No service matches the filter." : "No services yet. Send a log to POST /api/logs.";
  if (all.length && !rows.length) $("services-empty").hidden = false;
  for (const th of document.querySelectorAll(".services th[data-sort]")) {
    const active = th.dataset.sort === sort;
    if (th.hasAttribute("aria-sort"))
      th.setAttribute("aria-sort", active ? (sort === "name" ? "ascending" : "descending") : "none");
  }
  $("svc-sort").value = view.sort;
  $("svc-sort").options[0].textContent = view.sort ? "sort: auto" : `sort: auto (${sort})`;
}

/** The service box's suggestions (a datalist), rebuilt only when the set of names changes. */
function renderServiceNames() {
  const names = state.groups.map((g) => g.service).sort();
  const joined = names.join("\n");
  if (joined === state.serviceNames) return;
  state.serviceNames = joined;
  $("service-names").replaceChildren(
    ...names.map((n) => {
      const o = document.createElement("option");
      o.value = n;
      return o;
    }),
  );
}

function selectService(name) {
  if (view.service === name) return;
  view.service = name;
  state.patternsAt = 0;
  saveView();
  renderServices();
  void refreshSelected().catch(handleError);
}

// -------------------------------------------------------------------------------------------
// chart, error rate, patterns of the selected service

function chartSize() {
  const box = $("chart");
  return { width: Math.max(200, box.clientWidth), height: Math.max(100, box.clientHeight) };
}

function makeChart(data) {
  const axis = {
    stroke: "#8b95a7",
    grid: { stroke: "#232a34", width: 1 },
    ticks: { stroke: "#232a34", width: 1 },
    font: "11px system-ui, sans-serif",
  };
  const opts = {
    ...chartSize(),
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
    axes: [
      { ...axis, values: (_u, splits) => splits.map((s) => fmtTime(s * 1000, { millis: false }).slice(0, 5)) },
      { ...axis, size: 44 },
    ],
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 6 } },
    hooks: { setCursor: [(u) => renderLegend(u, u.cursor.idx)] },
    series: [
      {},
      ...LEVELS.map((l) => ({
        label: l,
        stroke: COLORS[l],
        width: l === "error" ? 2 : 1.5,
        fill: l === "error" ? "rgba(240,97,109,0.10)" : undefined,
        points: { show: false },
      })),
    ],
  };
  const chart = new uPlot(opts, data, $("chart"));
  new ResizeObserver(() => chart.setSize(chartSize())).observe($("chart"));
  return chart;
}

/** The legend above the chart doubles as the hover readout: "22:41 error 3 warn 1 …". */
function renderLegend(u, idx) {
  const legend = $("chart-legend");
  const hover = idx !== null && idx !== undefined && u && u.data[0][idx] !== undefined;
  const parts = [];
  if (hover) parts.push(el("span", "l-time", fmtTime(u.data[0][idx] * 1000, { millis: false }).slice(0, 5)));
  LEVELS.forEach((l, i) => parts.push(el("span", `l-${l}`, hover ? `${l} ${fmtInt(u.data[i + 1][idx])}` : l)));
  legend.replaceChildren(...parts);
}

async function refreshStats(service) {
  const { status, body } = await api(`/api/services/${encodeURIComponent(service)}/stats`);
  if (status !== 200 || service !== view.service) return;
  const series = body.series || [];
  const data = [series.map((p) => p.time / 1000), ...LEVELS.map((l) => series.map((p) => p[l] || 0))];
  const total = series.reduce((n, p) => n + LEVELS.reduce((m, l) => m + (p[l] || 0), 0), 0);
  if (typeof uPlot !== "function") {
    // uPlot failed to load (it throws at start-up on a browser locale Intl rejects): numbers only
    $("chart").dataset.unavailable = "1";
    $("chart-legend").textContent = "chart unavailable in this browser";
  } else if (!state.chart) state.chart = makeChart(data);
  else state.chart.setData(data);
  const box = $("chart");
  box.dataset.total = String(total);
  box.dataset.points = String(series.length);
  box.dataset.service = service;
  $("chart-service").textContent = `· ${service} · per minute`;
  $("show-service-logs").hidden = view.logService === service;
}

async function refreshErrorRate(service) {
  const threshold = thresholdFrac();
  const { status, body } = await api(
    `/api/services/${encodeURIComponent(service)}/error-rate?window=5m&threshold=${threshold}&min_events=${MIN_EVENTS}`,
  );
  // 503 means "breached", which is data for us, not a failure.
  if ((status !== 200 && status !== 503) || service !== view.service) return;
  const { rate = 0, errors = 0, total = 0, ok } = body;
  $("rate-number").textContent = total ? fmtPct(rate) : "–";
  const badge = $("rate-badge");
  badge.className = `badge ${ok ? "ok" : "breached"}`;
  badge.textContent = ok ? "ok" : "breached";
  const scale = Math.max(threshold * 2, rate, 0.01);
  const fill = $("rate-fill");
  fill.style.width = `${Math.min(100, (rate / scale) * 100)}%`;
  fill.classList.toggle("breached", !ok);
  $("rate-mark").style.left = `${Math.min(100, (threshold / scale) * 100)}%`;
  $("rate-detail").textContent =
    total < MIN_EVENTS
      ? `${fmtInt(errors)} errors in ${fmtInt(total)} events: below ${MIN_EVENTS} events the check is always ok`
      : `${fmtInt(errors)} errors in ${fmtInt(total)} events · threshold ${fmtPct(threshold)}`;
}

function sparkline(trend) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("viewBox", "0 0 80 22");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("aria-hidden", "true");
  const counts = (trend || []).map((p) => Number(p.count) || 0);
  if (counts.length >= 2) {
    const max = Math.max(1, ...counts);
    const pts = counts.map(
      (c, i) => `${((i / (counts.length - 1)) * 80).toFixed(1)},${(21 - (c / max) * 19).toFixed(1)}`,
    );
    const line = document.createElementNS(NS, "polyline");
    line.setAttribute("points", pts.join(" "));
    svg.append(line);
  }
  return svg;
}

async function refreshPatterns(service) {
  const now = Date.now();
  let patterns = [];
  let note = "No patterns yet.";
  try {
    const qs = new URLSearchParams({
      service,
      limit: "10",
      start_time: String(now - 86_400_000),
      end_time: String(now),
    });
    const { status, body } = await api(`/api/logs/analytics/patterns?${qs}`);
    if (status === 200 && Array.isArray(body?.patterns)) patterns = body.patterns;
    else if (status >= 500) note = "No patterns yet (pattern history needs the data service).";
  } catch (e) {
    if (e instanceof AuthError) throw e;
  }
  if (service !== view.service) return;
  const list = $("patterns");
  list.replaceChildren();
  for (const p of patterns) {
    if (typeof p.id === "string") state.patternNames.set(p.id, p.pattern);
    const li = el("li");
    const sev = ["low", "medium", "high", "critical"].includes(p.severity) ? p.severity : "low";
    const btn = el("button", `pt sev-${sev}`, p.pattern);
    btn.type = "button";
    btn.dataset.patternId = p.id;
    btn.title = `${p.pattern}\n${p.type || ""} · ${p.severity || ""}\nclick: show only logs of this pattern`;
    btn.setAttribute("aria-pressed", String(view.pattern === p.id));
    btn.addEventListener("click", () => setPattern(view.pattern === p.id ? "" : p.id));
    li.append(btn, sparkline(p.trend), el("span", "freq", fmtInt(p.frequency)));
    list.append(li);
  }
  $("patterns-empty").textContent = note;
  $("patterns-empty").hidden = patterns.length > 0;
  renderPatternChip();
}

async function refreshSelected() {
  const s = view.service;
  if (!s) return;
  const jobs = [refreshStats(s), refreshErrorRate(s)];
  if (Date.now() - state.patternsAt > PATTERNS_MS) {
    state.patternsAt = Date.now();
    jobs.push(refreshPatterns(s));
  }
  await Promise.all(jobs);
}

async function poll() {
  clearTimeout(state.pollTimer);
  if (!state.running) return;
  state.lastPollAt = Date.now();
  try {
    await refreshServices();
    await refreshSelected();
    $("updated").textContent = `updated ${fmtTime(Date.now(), { millis: false })}`;
  } catch (e) {
    handleError(e);
  }
  if (state.running) state.pollTimer = setTimeout(poll, POLL_MS);
}

/** New logs arrived on the socket: refresh the counters soon, but not more often than POLL_SOON_MIN_MS. */
function pollSoon() {
  if (state.burstTimer) return;
  const wait = Math.max(1000, state.lastPollAt + POLL_SOON_MIN_MS - Date.now());
  state.burstTimer = setTimeout(() => {
    state.burstTimer = 0;
    void poll();
  }, wait);
}

function handleError(e) {
  if (e instanceof AuthError) {
    stop();
    setStatus("error", "key rejected");
    openKeyDialog(`Key rejected: ${e.message}`);
    return;
  }
  console.error(e);
  $("updated").textContent = `update failed: ${e.message}`;
}

// -------------------------------------------------------------------------------------------
// log filters (shared by the tail and the search) and the URL

function applyViewToControls() {
  $("svc-filter").value = view.svc;
  $("svc-sort").value = view.sort;
  $("f-service").value = view.logService;
  for (const box of document.querySelectorAll('#log-filters input[name="level"]'))
    box.checked = view.levels.includes(box.value);
  $("f-q").value = view.q;
  $("f-range").value = view.range;
  const custom = view.range === "custom";
  $("custom-range").hidden = !custom;
  if (custom) {
    $("f-from").value = toLocalInput(view.from);
    $("f-to").value = toLocalInput(view.to);
  }
  showTab(view.tab, false);
  renderPatternChip();
}

function toLocalInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
}

/** Reads the filter controls into the view; false (and a note) when the service box is invalid. */
function readFilterControls() {
  const service = $("f-service").value.trim();
  if (service && !/^[A-Za-z0-9._-]{1,128}$/.test(service)) {
    $("tail-note").textContent = `"${service.slice(0, 64)}" is not a service name (letters, digits, . _ -)`;
    return false;
  }
  view.logService = service;
  view.levels = [...document.querySelectorAll('#log-filters input[name="level"]:checked')].map((i) => i.value);
  view.q = $("f-q").value.trim();
  view.range = $("f-range").value;
  if (view.range === "custom") {
    const from = Date.parse($("f-from").value);
    const to = Date.parse($("f-to").value);
    if (Number.isFinite(from) && Number.isFinite(to) && from <= to) {
      view.from = from;
      view.to = to;
    } else {
      const b = rangeBounds({ ...view, range: "1h" }, Date.now());
      view.from = b.start;
      view.to = b.end;
      $("f-from").value = toLocalInput(b.start);
      $("f-to").value = toLocalInput(b.end);
    }
  } else {
    view.from = null;
    view.to = null;
  }
  $("custom-range").hidden = view.range !== "custom";
  return true;
}

/** Filters changed: the tail starts over and the search runs again (now, or when its tab opens). */
function filtersChanged({ search = true } = {}) {
  if (!readFilterControls()) return;
  saveView();
  if (!state.running) return;
  resubscribe();
  state.searchStale = true;
  if (search && view.tab === "search") void runSearch();
}

function setPattern(id) {
  view.pattern = id;
  saveView();
  renderPatternChip();
  for (const b of document.querySelectorAll("#patterns button[data-pattern-id]"))
    b.setAttribute("aria-pressed", String(b.dataset.patternId === id));
  if (!state.running) return;
  resubscribe();
  state.searchStale = true;
  if (view.tab === "search") void runSearch();
}

function renderPatternChip() {
  const chip = $("pattern-chip");
  chip.hidden = !view.pattern;
  if (!view.pattern) return;
  const text = state.patternNames.get(view.pattern) || view.pattern;
  $("pattern-chip-text").textContent = `pattern: ${text}`;
  chip.title = text;
}

/** Shows a text search from a link in the detail view: related logs across every service. */
function searchText(text) {
  if ($("detail-dialog").open) $("detail-dialog").close();
  view.q = text;
  view.logService = "";
  view.pattern = "";
  view.levels = [...LEVELS];
  applyViewToControls();
  showTab("search", false);
  filtersChanged();
}

function hrefFor(text) {
  return `${location.pathname}${writeView({ ...view, tab: "search", q: text, logService: "", pattern: "", levels: LEVELS })}`;
}

function showTab(tab, run = true) {
  view.tab = tab === "search" ? "search" : "live";
  const live = view.tab === "live";
  $("tab-live").setAttribute("aria-selected", String(live));
  $("tab-search").setAttribute("aria-selected", String(!live));
  $("tab-live").tabIndex = live ? 0 : -1;
  $("tab-search").tabIndex = live ? -1 : 0;
  $("tail-panel").hidden = !live;
  $("live-tools").hidden = !live;
  $("tail-note").hidden = !live;
  $("search-panel").hidden = live;
  $("range-box").hidden = live;
  $("f-q").placeholder = live ? "message or id… (request_id:abc)" : "message or id, Enter to search";
  saveView();
  if (run && !live && state.running && state.searchStale) void runSearch();
}

// -------------------------------------------------------------------------------------------
// live tail

/** The tail's server parameters; ids and field:value text are matched in the browser instead. */
function tailParams() {
  const p = new URLSearchParams();
  if (view.logService) p.set("service", view.logService);
  if (view.levels.length < LEVELS.length) p.set("level", view.levels.join(","));
  if (view.pattern) p.set("pattern_id", view.pattern);
  const text = view.q;
  const serverText = text && !looksLikeId(text) && !text.includes(":");
  if (serverText) p.set("q", text.slice(0, 256));
  state.clientText = text && !serverText ? text : "";
  return p;
}

function rememberTailRow(log, li, atTop) {
  const list = $("tail");
  state.tailLogs.set(log.id, log);
  if (atTop) list.prepend(li);
  else list.append(li);
}

function trimTail() {
  const list = $("tail");
  while (list.children.length > TAIL_MAX) {
    const last = list.lastElementChild;
    if (last.dataset.id) state.tailLogs.delete(last.dataset.id);
    last.remove();
  }
}

const tailWants = (log) => !state.clientText || matchFields(log, state.clientText).length > 0;

/** Live logs (oldest first): each goes on top, so the newest ends up first. */
function showLive(logs) {
  if (state.paused) {
    state.pausedLogs.push(...logs);
    if (state.pausedLogs.length > PAUSE_MAX) {
      state.pausedDropped += state.pausedLogs.length - PAUSE_MAX;
      state.pausedLogs.splice(0, state.pausedLogs.length - PAUSE_MAX);
    }
    const lost = state.pausedDropped ? ` (${fmtInt(state.pausedDropped)} older ones not kept)` : "";
    $("tail-note").textContent = `paused · ${fmtInt(state.pausedLogs.length)} new${lost}`;
    return;
  }
  for (const log of logs) {
    if (!log || typeof log.id !== "string" || state.tailLogs.has(log.id) || !tailWants(log)) continue;
    rememberTailRow(log, logRow(log, { fresh: true }), true);
  }
  trimTail();
}

function notice(text) {
  $("tail").prepend(el("li", "notice", text));
  trimTail();
}

/** The most recent matching logs (newest first) below whatever the socket already showed. */
async function prefill(params) {
  const p = new URLSearchParams(params);
  p.set("limit", "50");
  const { status, body } = await api(`/api/logs/search?${p}`);
  if (status !== 200 || !Array.isArray(body?.logs)) return;
  for (const log of body.logs) {
    if (state.tailLogs.has(log.id) || !tailWants(log)) continue;
    rememberTailRow(log, logRow(log), false);
  }
  trimTail();
}

function closeSocket() {
  clearTimeout(state.reconnectTimer);
  clearInterval(state.pingTimer);
  const ws = state.ws;
  state.ws = null;
  if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "bye");
}

/**
 * Why a tail handshake failed. Browsers show a refused WebSocket upgrade as a bare close (1006)
 * with no status, so ask the same URL over plain HTTP: the server answers 401/403/400 with its
 * JSON error. null when the answer says nothing useful (network down, 426 "needs an upgrade").
 */
async function probeTail(url) {
  try {
    const res = await fetch(url, { cache: "no-store" });
    if (![400, 401, 403, 429].includes(res.status)) return null;
    const body = await res.json().catch(() => null);
    return { status: res.status, code: body?.error?.code || "", message: body?.error?.message || `HTTP ${res.status}` };
  } catch {
    return null;
  }
}

function tailRefused(error) {
  const tail = $("tail");
  tail.dataset.error = error.code || String(error.status || "");
  if (error.code === "unauthorized" || error.status === 401) {
    handleError(new AuthError(`live tail: ${error.message}`));
    return true;
  }
  if (error.code === "forbidden" || error.status === 403) {
    setStatus("error", "tail forbidden");
    $("tail-note").textContent =
      `Live tail refused (403): ${error.message}. This key may not read these services; pick a service it may read.`;
    return true;
  }
  if (error.code === "invalid_request" || error.status === 400) {
    setStatus("error", "tail error");
    $("tail-note").textContent = `Live tail refused (400): ${error.message}`;
    return !String(error.message).includes("since"); // a stale cursor: retry without it
  }
  return false;
}

function connectTail(resume) {
  closeSocket();
  if (!state.running) return;
  const tail = $("tail");
  if (view.levels.length === 0) {
    $("tail-note").textContent = "select at least one level";
    setStatus("idle", "tail off");
    return;
  }
  const p = tailParams();
  tail.dataset.filter = p.toString(); // for tests and curious humans: what this pane follows
  tail.dataset.live = "0";
  delete tail.dataset.error;
  if (resume && state.cursor && state.cursor.length <= MAX_SINCE_CHARS) p.set("since", state.cursor);
  p.set("token", state.key); // the one place the key is in a URL: browsers can't set headers on a WebSocket
  const path = `//${location.host}/api/tail?${p}`;
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss:" : "ws:"}${path}`);
  state.ws = ws;
  let opened = false;
  let fatal = null;
  setStatus("retry", resume ? "reconnecting…" : "connecting…");

  ws.addEventListener("open", () => {
    if (state.ws !== ws) return;
    opened = true;
    setStatus("live", "live");
    tail.dataset.live = "1";
    $("tail-note").textContent = state.paused ? "paused" : "";
    state.pingTimer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send("ping"), PING_MS);
  });
  ws.addEventListener("message", (ev) => {
    if (state.ws !== ws || typeof ev.data !== "string" || ev.data === "pong") return;
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (msg.type === "logs" && Array.isArray(msg.logs)) {
      state.backoffMs = 1000;
      if (typeof msg.cursor === "string") state.cursor = msg.cursor;
      showLive(msg.logs);
      if (msg.logs.length) pollSoon();
    } else if (msg.type === "ready") {
      if (typeof msg.cursor === "string") state.cursor = msg.cursor;
    } else if (msg.type === "dropped") {
      notice(`${fmtInt(msg.count)} logs dropped: this browser fell behind the live stream`);
    } else if (msg.type === "sampled") {
      const rate = Number(msg.rate);
      notice(
        rate >= 1
          ? "sampling stopped: showing every matching log again"
          : `sampling: showing about ${fmtPct(rate)} of the matching logs (more than this browser is sent)`,
      );
    } else if (msg.type === "error") {
      fatal = msg.error || { code: "internal", message: "tail error" };
    }
  });
  ws.addEventListener("close", async (ev) => {
    if (state.ws !== ws) return;
    clearInterval(state.pingTimer);
    state.ws = null;
    tail.dataset.live = "0";
    if (!fatal && !opened) fatal = await probeTail(`${location.protocol}${path}`);
    if (state.ws || !state.running) return; // resubscribed while probing
    if (fatal && tailRefused(fatal)) return;
    if (fatal?.code === "invalid_request") state.cursor = null;
    const wait = state.backoffMs;
    state.backoffMs = Math.min(state.backoffMs * 2, 30_000);
    setStatus("retry", `reconnecting in ${Math.round(wait / 1000)} s`);
    if (!fatal) $("tail-note").textContent = `tail closed (${ev.code}); resuming without gaps`;
    state.reconnectTimer = setTimeout(() => connectTail(true), wait);
  });
}

/** Filters changed: start over (a cursor belongs to its subscription). */
function resubscribe() {
  state.cursor = null;
  state.tailLogs.clear();
  state.pausedLogs = [];
  state.pausedDropped = 0;
  $("tail").replaceChildren();
  connectTail(false);
  const p = tailParams();
  void prefill(p).catch(handleError);
}

function togglePause() {
  state.paused = !state.paused;
  const b = $("tail-pause");
  b.setAttribute("aria-pressed", String(state.paused));
  b.textContent = state.paused ? "Resume" : "Pause";
  if (!state.paused) {
    const logs = state.pausedLogs;
    state.pausedLogs = [];
    state.pausedDropped = 0;
    showLive(logs);
    $("tail-note").textContent = "";
  } else {
    $("tail-note").textContent = "paused";
  }
}

// -------------------------------------------------------------------------------------------
// history search

function searchBase() {
  const p = new URLSearchParams();
  if (view.logService) p.set("service", view.logService);
  if (view.levels.length < LEVELS.length) p.set("level", view.levels.join(","));
  if (view.pattern) p.set("pattern_id", view.pattern);
  const { start, end } = rangeBounds(view, Date.now());
  p.set("start_time", String(Math.floor(start)));
  p.set("end_time", String(Math.ceil(end)));
  p.set("order", "desc");
  p.set("limit", String(SEARCH_PAGE));
  return p;
}

function rangeLabel() {
  if (view.range !== "custom") return `last ${view.range}`;
  return `${new Date(view.from).toLocaleString()} – ${new Date(view.to).toLocaleString()}`;
}

async function runSearch() {
  if (!state.running) return;
  const seq = ++state.searchSeq;
  state.searchStale = false;
  const results = $("results");
  results.replaceChildren();
  results.dataset.state = "loading";
  state.resultLogs.clear();
  $("search-more").hidden = true;
  if (view.levels.length === 0) {
    $("search-note").textContent = "select at least one level";
    results.dataset.state = "done";
    return;
  }
  const base = searchBase();
  const fetchPage = async (params, cursor) => {
    const p = new URLSearchParams(base);
    for (const [k, v] of Object.entries(params)) p.set(k, v);
    if (cursor) p.set("cursor", cursor);
    const { status, body } = await api(`/api/logs/search?${p}`);
    if (status !== 200) throw new SearchError(status, body);
    return body;
  };
  state.search = new MergedSearch(planSearches(view.q), fetchPage, {
    pageSize: SEARCH_PAGE,
    maxRows: SEARCH_MAX_ROWS,
  });
  await loadMore(seq);
}

async function loadMore(seq = state.searchSeq) {
  const search = state.search;
  if (!search) return;
  const note = $("search-note");
  const results = $("results");
  note.textContent = "searching…";
  $("search-more").hidden = true;
  let page;
  try {
    page = await search.next();
  } catch (e) {
    if (seq !== state.searchSeq) return;
    results.dataset.state = "error";
    if (e instanceof AuthError) return handleError(e);
    note.textContent =
      e instanceof SearchError ? `Search failed (${e.status} ${e.code}): ${e.message}` : `Search failed: ${e.message}`;
    return;
  }
  if (seq !== state.searchSeq) return;
  const showMatch = Boolean(view.q);
  for (const row of page.rows) {
    const li = logRow(row.log, { date: true, matched: showMatch ? row.matched : undefined });
    state.resultLogs.set(row.log.id, { log: row.log, li });
    results.append(li);
  }
  for (const row of page.updated) {
    const shown = state.resultLogs.get(row.log.id);
    shown?.li.querySelector(".match")?.replaceWith(matchBadge(row.matched));
  }
  const n = state.resultLogs.size;
  const parts = [`${fmtInt(n)} ${n === 1 ? "log" : "logs"} · ${rangeLabel()} · newest first`];
  if (search.skipped.length)
    parts.push(`not searched: ${search.skipped.map((s) => `${s.field} (${s.message})`).join("; ")}`);
  if (search.capped) parts.push(`stopped at ${fmtInt(SEARCH_MAX_ROWS)}: narrow the time range or filters`);
  else if (!search.done) parts.push("more below");
  note.textContent = parts.join(" · ");
  results.dataset.state = "done";
  results.dataset.count = String(n);
  $("search-more").hidden = search.done;
}

// -------------------------------------------------------------------------------------------
// log detail

async function openDetail(id) {
  const known = state.tailLogs.get(id) || state.resultLogs.get(id)?.log;
  if (!known) return;
  const dialog = $("detail-dialog");
  const actions = { searchText, filterPattern, hrefFor };
  state.detail = known;
  renderDetail($("detail-body"), known, actions);
  $("detail-note").textContent = "";
  dialog.dataset.id = id;
  if (!dialog.open) dialog.showModal();
  // The stored entry may carry more than the row had (the tail and the search send whole
  // entries today; this keeps the view right if either ever trims).
  try {
    const { status, body } = await api(`/api/logs/${encodeURIComponent(id)}`);
    if (status === 200 && body && dialog.open && dialog.dataset.id === id) {
      state.detail = body;
      renderDetail($("detail-body"), body, actions);
    }
  } catch (e) {
    if (e instanceof AuthError) handleError(e);
  }
}

function filterPattern(id) {
  if ($("detail-dialog").open) $("detail-dialog").close();
  setPattern(id);
}

// -------------------------------------------------------------------------------------------
// lifecycle

function start() {
  stop();
  state.running = true;
  void poll();
  resubscribe();
  state.searchStale = true;
  if (view.tab === "search") void runSearch();
}

function stop() {
  state.running = false;
  clearTimeout(state.pollTimer);
  clearTimeout(state.burstTimer);
  state.burstTimer = 0;
  closeSocket();
}

function init() {
  state.table = new ServicesTable(
    { scroller: $("services-scroll"), table: $("services-table"), tbody: $("services-body") },
    selectService,
  );
  saveView(); // drops anything that isn't view state (a pasted ?token=, say) from the address bar
  applyViewToControls();

  $("key-form").addEventListener("submit", onKeySubmit);
  $("key-forget").addEventListener("click", forgetKey);
  $("change-key").addEventListener("click", () => openKeyDialog(""));

  let svcDebounce = 0;
  $("svc-filter").addEventListener("input", () => {
    clearTimeout(svcDebounce);
    svcDebounce = setTimeout(() => {
      view.svc = $("svc-filter").value.trim();
      saveView();
      $("services-scroll").scrollTop = 0;
      renderServices();
    }, 120);
  });
  $("svc-sort").addEventListener("change", () => {
    view.sort = $("svc-sort").value;
    saveView();
    renderServices();
  });
  for (const th of document.querySelectorAll(".services th[data-sort] button")) {
    th.addEventListener("click", () => {
      view.sort = th.closest("th").dataset.sort;
      saveView();
      renderServices();
    });
  }
  $("show-service-logs").addEventListener("click", () => {
    $("f-service").value = view.service;
    filtersChanged();
  });
  $("threshold").addEventListener("change", () => {
    renderServices();
    if (state.running) void refreshSelected().catch(handleError);
  });

  $("tab-live").addEventListener("click", () => showTab("live"));
  $("tab-search").addEventListener("click", () => showTab("search"));
  $("tab-live").parentElement.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    const next = view.tab === "live" ? "search" : "live";
    showTab(next);
    $(`tab-${next}`).focus();
  });

  $("tail-pause").addEventListener("click", togglePause);
  $("tail-clear").addEventListener("click", () => {
    $("tail").replaceChildren();
    state.tailLogs.clear();
  });
  let textDebounce = 0;
  const form = $("log-filters");
  form.addEventListener("change", (e) => {
    if (e.target.id === "f-q") return; // the text box has its own timing (below)
    filtersChanged();
  });
  // Typing refilters the tail after a pause; the history search runs on Enter (it is heavier).
  $("f-q").addEventListener("input", () => {
    clearTimeout(textDebounce);
    textDebounce = setTimeout(() => filtersChanged({ search: false }), 400);
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(textDebounce);
    if (view.tab === "search") {
      if (!readFilterControls()) return;
      saveView();
      resubscribe();
      void runSearch();
    } else filtersChanged();
  });
  $("pattern-clear").addEventListener("click", () => setPattern(""));
  $("search-more").addEventListener("click", () => void loadMore());

  bindRowOpen($("tail"), (id) => void openDetail(id));
  bindRowOpen($("results"), (id) => void openDetail(id));
  $("detail-close").addEventListener("click", () => $("detail-dialog").close());
  $("detail-copy").addEventListener("click", async () => {
    if (!state.detail) return;
    const ok = await copyText(JSON.stringify(state.detail, null, 2));
    $("detail-note").textContent = ok ? "Copied the entry as JSON." : "Copy failed: select the text instead.";
  });
  renderLegend(null, null);

  if (state.key) start();
  else openKeyDialog("");
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
