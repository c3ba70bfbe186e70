// edge-logger dashboard client (served as /assets/dashboard.js by src/http/dashboard.ts).
// Plain browser JS, no build step. It reads with a key kept in localStorage, polls the stats
// endpoints every few seconds and follows the live tail WebSocket, resuming with `since=<cursor>`
// after a drop. Log text only ever reaches the page through textContent, never innerHTML.

(() => {
  const KEY_STORAGE = "edge-logger.read-key";
  const LEVELS = ["error", "warn", "info", "debug"];
  const COLORS = { error: "#f0616d", warn: "#f5a524", info: "#4ea1ff", debug: "#8b95a7" };
  const POLL_MS = 5000; // services, stats, error rate
  const PATTERNS_MS = 30_000; // patterns change slowly and come from the data service
  const TAIL_MAX = 500; // rows kept in the tail pane; older rows are dropped from the DOM
  const PAUSE_MAX = 2000; // logs buffered while paused
  const MIN_EVENTS = 20;
  const PING_MS = 20_000;

  const $ = (id) => document.getElementById(id);
  const state = {
    key: localStorage.getItem(KEY_STORAGE) || "",
    services: [], // grouped by service name
    selected: null,
    chart: null,
    ws: null,
    cursor: null,
    backoffMs: 1000,
    reconnectTimer: 0,
    pingTimer: 0,
    pollTimer: 0,
    patternsAt: 0,
    burstTimer: 0,
    paused: false,
    pausedLogs: [],
    shown: new Set(), // ids in the tail pane, so a prefill and the socket never show a log twice
    tailServices: null, // services that existed when an all-services tail connected (null: not known yet)
    running: false,
  };

  class AuthError extends Error {}

  // ---------------------------------------------------------------------------------------
  // small helpers

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function fmtInt(n) {
    return Number(n || 0).toLocaleString("en-US");
  }

  function fmtPct(r) {
    if (!Number.isFinite(r)) return "–";
    const p = r * 100;
    return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
  }

  const pad = (n, w = 2) => String(n).padStart(w, "0");

  function fmtTime(ms, withMs = true) {
    const d = new Date(ms);
    const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    return withMs ? `${hms}.${pad(d.getMilliseconds(), 3)}` : hms;
  }

  function levelOf(x) {
    return LEVELS.includes(x) ? x : "info";
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

  // ---------------------------------------------------------------------------------------
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

  // ---------------------------------------------------------------------------------------
  // services table

  function groupServices(rows) {
    const by = new Map();
    for (const r of rows) {
      let g = by.get(r.service);
      if (!g) {
        g = { service: r.service, domains: [], counts: {} };
        by.set(r.service, g);
      }
      g.domains.push(r.domain);
      for (const [w, c] of Object.entries(r.counts || {})) {
        const acc = (g.counts[w] ||= { error: 0, warn: 0, info: 0, debug: 0, total: 0 });
        for (const k of Object.keys(acc)) acc[k] += c[k] || 0;
      }
    }
    return [...by.values()].sort((a, b) => a.service.localeCompare(b.service));
  }

  async function refreshServices() {
    const { status, body } = await api("/api/services");
    if (status === 403) throw new AuthError(body?.error?.message || "this key may not read");
    if (status !== 200) throw new Error(body?.error?.message || `GET /api/services: HTTP ${status}`);
    state.services = groupServices(body.services || []);
    if (!state.selected || !state.services.some((s) => s.service === state.selected)) {
      state.selected = state.services[0]?.service ?? null;
    }
    renderServices();
    renderServiceFilter();
    followNewServices();
  }

  /**
   * An all-services tail covers the services that existed when it connected; when a new one
   * shows up, reconnect from the last cursor so it is included without a gap.
   */
  function followNewServices() {
    const names = state.services.map((s) => s.service);
    if (state.tailServices === null) {
      state.tailServices = new Set(names);
      return;
    }
    const added = names.filter((n) => !state.tailServices.has(n));
    if (added.length === 0) return;
    for (const n of added) state.tailServices.add(n);
    if ($("f-service").value === "" && state.ws && state.ws.readyState === WebSocket.OPEN) connectTail(true);
  }

  function renderServices() {
    const tbody = $("services-body");
    tbody.replaceChildren();
    for (const s of state.services) {
      const h = s.counts["1h"] || {};
      const m = s.counts["1m"] || {};
      const f = s.counts["5m"] || {};
      const rate = f.total ? f.error / f.total : 0;
      const tr = el("tr");
      tr.dataset.service = s.service;
      if (s.service === state.selected) tr.className = "selected";
      const name = el("td");
      name.append(el("span", "svc", s.service));
      const domains = s.domains.filter((d) => d !== "default");
      if (domains.length) name.append(el("span", "dom", domains.join(", ")));
      tr.append(
        name,
        el("td", "num", fmtInt(m.total)),
        el("td", "num", fmtInt(h.total)),
        el("td", h.error ? "num hot" : "num", fmtInt(h.error)),
        el(
          "td",
          f.total >= MIN_EVENTS && rate > Number($("threshold").value) / 100 ? "num hot" : "num",
          f.total ? fmtPct(rate) : "–",
        ),
      );
      tr.addEventListener("click", () => selectService(s.service));
      tbody.append(tr);
    }
    $("services-empty").hidden = state.services.length > 0;
  }

  function renderServiceFilter() {
    const sel = $("f-service");
    const current = sel.value;
    const names = state.services.map((s) => s.service);
    const existing = [...sel.options].slice(1).map((o) => o.value);
    if (names.join("\n") === existing.join("\n")) return;
    sel.replaceChildren(el("option", "", "all services"));
    sel.options[0].value = "";
    for (const n of names) {
      const o = el("option", "", n);
      o.value = n;
      sel.append(o);
    }
    sel.value = names.includes(current) ? current : "";
  }

  function selectService(name) {
    if (state.selected === name) return;
    state.selected = name;
    state.patternsAt = 0;
    renderServices();
    void refreshSelected().catch(handleError);
  }

  // ---------------------------------------------------------------------------------------
  // chart, error rate, patterns of the selected service

  function chartSize() {
    const box = $("chart");
    return { width: Math.max(240, box.clientWidth), height: Math.max(160, box.clientHeight) };
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
        {
          ...axis,
          values: (_u, splits) =>
            splits.map((s) => {
              const d = new Date(s * 1000);
              return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
            }),
        },
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
    if (hover) parts.push(el("span", "l-time", fmtTime(u.data[0][idx] * 1000, false).slice(0, 5)));
    LEVELS.forEach((l, i) => parts.push(el("span", `l-${l}`, hover ? `${l} ${fmtInt(u.data[i + 1][idx])}` : l)));
    legend.replaceChildren(...parts);
  }

  async function refreshStats(service) {
    const { status, body } = await api(`/api/services/${encodeURIComponent(service)}/stats?window=1h`);
    if (status !== 200 || service !== state.selected) return;
    const series = body.series || [];
    const data = [series.map((p) => p.time / 1000), ...LEVELS.map((l) => series.map((p) => p[l] || 0))];
    const total = series.reduce((n, p) => n + LEVELS.reduce((m, l) => m + (p[l] || 0), 0), 0);
    if (!state.chart) state.chart = makeChart(data);
    else state.chart.setData(data);
    const box = $("chart");
    box.dataset.total = String(total);
    box.dataset.points = String(series.length);
    box.dataset.service = service;
    $("chart-service").textContent = `· ${service} · per minute`;
  }

  async function refreshErrorRate(service) {
    const threshold = Math.min(1, Math.max(0, Number($("threshold").value) / 100 || 0));
    const { status, body } = await api(
      `/api/services/${encodeURIComponent(service)}/error-rate?window=5m&threshold=${threshold}&min_events=${MIN_EVENTS}`,
    );
    // 503 means "breached", which is data for us, not a failure.
    if ((status !== 200 && status !== 503) || service !== state.selected) return;
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
    const list = $("patterns");
    let patterns = [];
    let note = "No patterns yet.";
    try {
      const qs = new URLSearchParams({
        service,
        limit: "8",
        start_time: String(now - 86_400_000),
        end_time: String(now),
      });
      const { status, body } = await api(`/api/logs/analytics/patterns?${qs}`);
      if (status === 200 && Array.isArray(body?.patterns)) patterns = body.patterns;
      else if (status >= 500) note = "No patterns yet (pattern history needs the data service).";
    } catch (e) {
      if (e instanceof AuthError) throw e;
    }
    if (service !== state.selected) return;
    list.replaceChildren();
    for (const p of patterns) {
      const li = el("li");
      const text = el(
        "span",
        `pt sev-${["low", "medium", "high", "critical"].includes(p.severity) ? p.severity : "low"}`,
        p.pattern,
      );
      text.title = `${p.pattern}\n${p.type || ""} · ${p.severity || ""}`;
      li.append(text, sparkline(p.trend), el("span", "freq", fmtInt(p.frequency)));
      list.append(li);
    }
    $("patterns-empty").textContent = note;
    $("patterns-empty").hidden = patterns.length > 0;
  }

  async function refreshSelected() {
    const s = state.selected;
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
    try {
      await refreshServices();
      await refreshSelected();
      $("updated").textContent = `updated ${fmtTime(Date.now(), false)}`;
    } catch (e) {
      handleError(e);
    }
    if (state.running) state.pollTimer = setTimeout(poll, POLL_MS);
  }

  /** New logs arrived on the socket: refresh the counters soon, at most once a second. */
  function pollSoon() {
    if (state.burstTimer) return;
    state.burstTimer = setTimeout(() => {
      state.burstTimer = 0;
      void poll();
    }, 1000);
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

  // ---------------------------------------------------------------------------------------
  // live tail

  function tailFilters() {
    const levels = [...document.querySelectorAll('#tail-filters input[name="level"]:checked')].map((i) => i.value);
    return { service: $("f-service").value, levels, q: $("f-q").value.trim() };
  }

  function filterParams(f) {
    const p = new URLSearchParams();
    if (f.service) p.set("service", f.service);
    if (f.levels.length < LEVELS.length) p.set("level", f.levels.join(","));
    if (f.q) p.set("q", f.q);
    return p;
  }

  function logRow(log, fresh) {
    const li = el("li", fresh ? "fresh" : "");
    li.dataset.id = log.id;
    const lv = levelOf(log.level);
    const svc = el("span", "s", log.service);
    svc.title = `${log.domain || "default"}/${log.service}`;
    const msg = String(log.message ?? "");
    li.append(
      el("span", "t", fmtTime(log.timestamp)),
      el("span", `lv lv-${lv}`, lv),
      svc,
      el("span", "m", msg.length > 4000 ? `${msg.slice(0, 4000)}…` : msg),
    );
    li.title = new Date(log.timestamp).toISOString();
    return li;
  }

  function trimTail() {
    const list = $("tail");
    while (list.children.length > TAIL_MAX) {
      const last = list.lastElementChild;
      if (last.dataset.id) state.shown.delete(last.dataset.id);
      last.remove();
    }
  }

  /** Live logs (oldest first): each goes on top, so the newest ends up first. */
  function showLive(logs) {
    if (state.paused) {
      state.pausedLogs.push(...logs);
      if (state.pausedLogs.length > PAUSE_MAX) state.pausedLogs.splice(0, state.pausedLogs.length - PAUSE_MAX);
      $("tail-note").textContent = `paused · ${state.pausedLogs.length} new`;
      return;
    }
    const list = $("tail");
    for (const log of logs) {
      if (!log || typeof log.id !== "string" || state.shown.has(log.id)) continue;
      state.shown.add(log.id);
      list.prepend(logRow(log, true));
    }
    trimTail();
  }

  function notice(text) {
    const li = el("li", "notice", text);
    $("tail").prepend(li);
    trimTail();
  }

  /** The most recent matching logs (newest first) below whatever the socket already showed. */
  async function prefill(f) {
    const p = filterParams(f);
    p.set("limit", "50");
    const { status, body } = await api(`/api/logs/search?${p}`);
    if (status !== 200 || !Array.isArray(body?.logs)) return;
    const list = $("tail");
    for (const log of body.logs) {
      if (state.shown.has(log.id)) continue;
      state.shown.add(log.id);
      list.append(logRow(log, false));
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

  function connectTail(resume) {
    closeSocket();
    if (!state.running) return;
    const f = tailFilters();
    if (f.levels.length === 0) {
      $("tail-note").textContent = "select at least one level";
      setStatus("idle", "tail off");
      return;
    }
    const p = filterParams(f);
    const tail = $("tail");
    tail.dataset.filter = p.toString(); // for tests and curious humans: what this pane follows
    tail.dataset.live = "0";
    if (resume && state.cursor) p.set("since", state.cursor);
    p.set("token", state.key); // the one place the key is in a URL: browsers can't set headers on a WebSocket
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/tail?${p}`);
    state.ws = ws;
    let fatal = null;
    setStatus("retry", resume ? "reconnecting…" : "connecting…");

    ws.addEventListener("open", () => {
      if (state.ws !== ws) return;
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
      } else if (msg.type === "error") {
        fatal = msg.error || { code: "internal", message: "tail error" };
      }
    });
    ws.addEventListener("close", (ev) => {
      if (state.ws !== ws) return;
      clearInterval(state.pingTimer);
      state.ws = null;
      tail.dataset.live = "0";
      if (fatal && (fatal.code === "unauthorized" || fatal.code === "forbidden")) {
        handleError(new AuthError(fatal.message));
        return;
      }
      if (fatal && fatal.code === "invalid_request") {
        // bad filter (or a cursor the server no longer accepts): show it, start over without since
        state.cursor = null;
        setStatus("error", "tail error");
        $("tail-note").textContent = `tail: ${fatal.message}`;
        if (!String(fatal.message).includes("since")) return;
      }
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
    state.shown.clear();
    state.pausedLogs = [];
    $("tail").replaceChildren();
    connectTail(false);
    void prefill(tailFilters()).catch(handleError);
  }

  function togglePause() {
    state.paused = !state.paused;
    const b = $("tail-pause");
    b.setAttribute("aria-pressed", String(state.paused));
    b.textContent = state.paused ? "Resume" : "Pause";
    if (!state.paused) {
      const logs = state.pausedLogs;
      state.pausedLogs = [];
      showLive(logs);
      $("tail-note").textContent = "";
    } else {
      $("tail-note").textContent = "paused";
    }
  }

  // ---------------------------------------------------------------------------------------
  // lifecycle

  function start() {
    stop();
    state.running = true;
    void poll();
    resubscribe();
  }

  function stop() {
    state.running = false;
    clearTimeout(state.pollTimer);
    closeSocket();
  }

  function init() {
    $("key-form").addEventListener("submit", onKeySubmit);
    $("key-forget").addEventListener("click", forgetKey);
    $("change-key").addEventListener("click", () => openKeyDialog(""));
    $("tail-pause").addEventListener("click", togglePause);
    $("tail-clear").addEventListener("click", () => {
      $("tail").replaceChildren();
      state.shown.clear();
    });
    let debounce = 0;
    const onFilter = () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => state.running && resubscribe(), 300);
    };
    $("tail-filters").addEventListener("change", onFilter);
    $("f-q").addEventListener("input", onFilter);
    $("tail-filters").addEventListener("submit", (e) => e.preventDefault());
    $("threshold").addEventListener("change", () => state.running && void refreshSelected().catch(handleError));
    renderLegend(null, null);

    if (state.key) start();
    else openKeyDialog("");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
