// The services panel of the dashboard (served as /assets/services-table.js): grouping the rows of
// GET /api/services by service name, filtering, sorting and a virtualised table. The pure
// functions at the top take no DOM and are tested in Node (test/e2e/dashboard-logic.e2e.test.ts).
// The table renders only the rows in view (plus a few either side), so 1,000 or 10,000 services
// cost the same ~40 rows of DOM; spacer rows above and below keep the scrollbar honest.

/** Row height in px; the CSS pins `.services tbody tr` to the same value. */
export const ROW_HEIGHT = 30;
/** Rows rendered above and below the visible ones, so fast scrolling shows no gap. */
const OVERSCAN = 8;

export const SORTS = ["name", "volume", "errors", "rate"];

/** One entry per service name, counts summed over its domains. */
export function groupServices(rows) {
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
  return [...by.values()];
}

/**
 * The numbers a row shows and sorts by. `breached` follows the error-rate route's rule: at least
 * `minEvents` logs in 5 minutes and a rate above the threshold (a fraction).
 */
export function withMetrics(group, threshold, minEvents) {
  const m = group.counts["1m"] || {};
  const h = group.counts["1h"] || {};
  const f = group.counts["5m"] || {};
  const total5m = f.total || 0;
  const rate5m = total5m ? (f.error || 0) / total5m : 0;
  return {
    ...group,
    volume1m: m.total || 0,
    volume1h: h.total || 0,
    errors1h: h.error || 0,
    total5m,
    rate5m,
    breached: total5m >= minEvents && rate5m > threshold,
  };
}

/** Case-insensitive substring of the service name or one of its domains. */
export function filterServices(list, text) {
  const t = String(text || "")
    .trim()
    .toLowerCase();
  if (!t) return list;
  return list.filter((s) => s.service.toLowerCase().includes(t) || s.domains.some((d) => d.toLowerCase().includes(t)));
}

/** The sort in force: the user's choice, else worst first when any service is breached, else by name. */
export function effectiveSort(chosen, list) {
  if (SORTS.includes(chosen)) return chosen;
  return list.some((s) => s.breached) ? "rate" : "name";
}

const byName = (a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0);

/**
 * Sorted copy. Every order but name is "worst/biggest first"; ties fall back to name so the
 * order is stable between polls. "rate" puts breached services first, then the highest rate,
 * then the most errors (so a service with 1 error in 1 event doesn't outrank a breached one).
 */
export function sortServices(list, sort) {
  const out = [...list];
  const cmp = {
    name: byName,
    volume: (a, b) => b.volume1h - a.volume1h || byName(a, b),
    errors: (a, b) => b.errors1h - a.errors1h || byName(a, b),
    rate: (a, b) =>
      Number(b.breached) - Number(a.breached) || b.rate5m - a.rate5m || b.errors1h - a.errors1h || byName(a, b),
  }[sort];
  return out.sort(cmp || byName);
}

/** Which rows [start, end) to render for a scroll position. */
export function visibleRange(scrollTop, viewportHeight, count, rowHeight = ROW_HEIGHT, overscan = OVERSCAN) {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const shown = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + shown + overscan);
  return { start, end: Math.max(start, end) };
}

// ---------------------------------------------------------------------------------------------
// DOM

const fmtInt = (n) => Number(n || 0).toLocaleString("en-US");

function fmtPct(r) {
  const p = r * 100;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

function cell(text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.textContent = text;
  return td;
}

/**
 * The virtualised table. `rows` is the filtered, sorted list; `onSelect(name)` runs on click,
 * Enter or Space. Keyboard focus stays on the table (a grid with aria-activedescendant), never
 * on a row: rows come and go on every scroll frame, and a focused row that leaves the DOM takes
 * the focus (and, in Chromium, the scroll position) with it. ↑/↓/Home/End/PageUp/PageDown move
 * the active row through all rows, scrolling the ones not rendered into view first.
 */
export class ServicesTable {
  constructor({ scroller, table, tbody }, onSelect) {
    this.scroller = scroller;
    this.table = table;
    this.tbody = tbody;
    this.onSelect = onSelect;
    this.rows = [];
    this.selected = null;
    this.active = 0; // index of the row the keyboard acts on
    this.frame = 0;
    scroller.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(scroller);
    tbody.addEventListener("click", (e) => {
      const tr = e.target.closest("tr[data-service]");
      if (!tr) return;
      this.active = Number(tr.dataset.index);
      this.table.focus({ preventScroll: true });
      this.onSelect(tr.dataset.service);
    });
    table.addEventListener("keydown", (e) => this.onKey(e));
  }

  setRows(rows, selected) {
    this.rows = rows;
    this.selected = selected;
    if (this.active >= rows.length) this.active = Math.max(0, rows.length - 1);
    this.render();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render() {
    const { start, end } = visibleRange(this.scroller.scrollTop, this.scroller.clientHeight, this.rows.length);
    const out = [this.spacer(start * ROW_HEIGHT)];
    for (let i = start; i < end; i++) out.push(this.row(this.rows[i], i));
    out.push(this.spacer((this.rows.length - end) * ROW_HEIGHT));
    this.tbody.replaceChildren(...out);
    if (this.active >= start && this.active < end)
      this.table.setAttribute("aria-activedescendant", `svc-row-${this.active}`);
    else this.table.removeAttribute("aria-activedescendant");
  }

  spacer(height) {
    const tr = document.createElement("tr");
    tr.className = "spacer";
    tr.setAttribute("aria-hidden", "true");
    const td = document.createElement("td");
    td.colSpan = 5;
    tr.append(td);
    tr.style.height = `${height}px`;
    return tr;
  }

  row(s, index) {
    const tr = document.createElement("tr");
    tr.dataset.service = s.service;
    tr.dataset.index = String(index);
    tr.id = `svc-row-${index}`;
    tr.setAttribute("aria-rowindex", String(index + 2)); // 1 is the header
    tr.setAttribute("aria-selected", String(s.service === this.selected));
    if (s.service === this.selected) tr.classList.add("selected");
    if (index === this.active) tr.classList.add("active");
    if (s.breached) tr.classList.add("breached");
    const name = document.createElement("td");
    const svc = document.createElement("span");
    svc.className = "svc";
    svc.textContent = s.service;
    name.append(svc);
    const domains = s.domains.filter((d) => d !== "default");
    if (domains.length) {
      const dom = document.createElement("span");
      dom.className = "dom";
      dom.textContent = domains.join(", ");
      name.append(dom);
    }
    name.title = s.service;
    tr.append(
      name,
      cell(fmtInt(s.volume1m), "num"),
      cell(fmtInt(s.volume1h), "num"),
      cell(fmtInt(s.errors1h), s.errors1h ? "num hot" : "num"),
      cell(s.total5m ? fmtPct(s.rate5m) : "–", s.breached ? "num hot" : "num"),
    );
    return tr;
  }

  onKey(e) {
    const n = this.rows.length;
    if (!n || e.target !== this.table) return; // keys on the header's sort buttons are theirs

    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_HEIGHT) - 1);
    const moves = {
      ArrowDown: this.active + 1,
      ArrowUp: this.active - 1,
      PageDown: this.active + page,
      PageUp: this.active - page,
      Home: 0,
      End: n - 1,
    };
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      const s = this.rows[this.active];
      if (s) this.onSelect(s.service);
      return;
    }
    if (!(e.key in moves)) return;
    e.preventDefault();
    this.focusIndex(Math.min(n - 1, Math.max(0, moves[e.key])));
  }

  /** Make row `i` active: scroll it into view and render. */
  focusIndex(i) {
    this.active = i;
    const top = i * ROW_HEIGHT;
    const head = this.scroller.querySelector("thead")?.offsetHeight || 0;
    const view = this.scroller.clientHeight - head;
    if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
    else if (top + ROW_HEIGHT > this.scroller.scrollTop + view) this.scroller.scrollTop = top + ROW_HEIGHT - view;
    this.render();
  }
}
