// The dashboard at fleet size in a real browser (Chromium from the npm registry, through
// playwright-core) against the logger under `wrangler dev`: 300 services, one of them breaching
// its error rate. The page must fit the window, filter and sort the services, follow a tail over
// all services, open a log to its full entry and find a request id by history search.
// Screenshots: test-results/dashboard.png (1400×900), dashboard-1280.png, dashboard-phone.png.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, INGEST_KEY, READ_KEY, ROOT, startDevServer, unique } from "./harness.js";
import { launchBrowser } from "./browser.js";

const FLEET = 300;
const name = (i: number) => `fleet-${String(i).padStart(3, "0")}`;
const LAST = name(FLEET - 1);
const ON_FIRE = name(137); // 25 errors in 30 logs over the last 5 minutes: breached at any sane threshold
const BUSY = name(42); // the most logs, few errors: first by volume, not by error rate

let server: DevServer | undefined;
let browser: Browser | undefined;
let page: Page;
const problems: string[] = [];
const badRequests: string[] = [];
const requestId = unique("req");
const userId = unique("user");

/** POST /api/logs/batch with any fields (the harness's ingest() types only the basic ones). */
async function ingestLogs(logs: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < logs.length; i += 1000) {
    const chunk = logs.slice(i, i + 1000);
    const res = await fetch(`${server!.url}/api/logs/batch`, {
      method: "POST",
      headers: { authorization: `Bearer ${INGEST_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ logs: chunk }),
    });
    const body = (await res.json()) as { accepted?: number };
    if (res.status !== 202 || body.accepted !== chunk.length)
      throw new Error(`ingest: HTTP ${res.status} ${JSON.stringify(body).slice(0, 500)}`);
  }
}

/** Every service logs 3 lines in the last half hour; two stand out (see ON_FIRE, BUSY). */
function fleet(now: number): Record<string, unknown>[] {
  const logs: Record<string, unknown>[] = [];
  for (let i = 0; i < FLEET; i++) {
    for (let j = 0; j < 3; j++)
      logs.push({
        service: name(i),
        level: "info",
        message: `GET /health 200 in ${j + 3} ms`,
        timestamp: now - (j + 1) * 9 * 60_000,
      });
  }
  for (let j = 0; j < 30; j++)
    logs.push({
      service: ON_FIRE,
      level: j < 25 ? "error" : "info",
      message: j < 25 ? `db timeout after ${3000 + j} ms` : "GET /orders 200",
      timestamp: now - 4 * 60_000 + j * 1000,
    });
  for (let j = 0; j < 60; j++)
    logs.push({
      service: BUSY,
      level: j === 0 ? "error" : "info",
      message: `GET /users/${j} 200`,
      timestamp: now - 3 * 60_000 + j * 1000,
    });
  // the entry the history search must find, 20 minutes ago, with everything a detail view shows
  logs.push({
    service: name(250),
    level: "error",
    message: "checkout failed: card declined",
    timestamp: now - 20 * 60_000,
    request_id: requestId,
    user_id: userId,
    session_id: "sess-e2e",
    category: "api",
    context: { url: "https://shop.example/checkout", method: "POST", ip: "203.0.113.9" },
    metadata: { order: { id: "ord-991", items: [{ sku: "sku-nested-leaf", qty: 2 }] }, region: "eu-west" },
    stack_trace: "Error: card declined\n    at charge (pay.js:10:5)\n    at checkout (shop.js:42:3)",
  });
  return logs;
}

async function rowsShown(): Promise<string[]> {
  return page.locator("#services-body tr[data-service]").evaluateAll((trs) => trs.map((t) => t.dataset.service ?? ""));
}

async function pageFits(): Promise<{ scrollH: number; innerH: number; scrollW: number; innerW: number }> {
  return page.evaluate(
    "({ scrollH: document.documentElement.scrollHeight, innerH: window.innerHeight, scrollW: document.documentElement.scrollWidth, innerW: window.innerWidth })",
  );
}

/**
 * Waits out the burst after the fleet's first ingest: 300 new aggregators push their patterns to
 * the data service at once, and under `wrangler dev` a browser request made meanwhile can wait
 * seconds in its proxy, or lose its connection (which stops `wrangler dev`). One answered
 * /api/services (it asks every aggregator) means the burst is over.
 */
async function settled(): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${server!.url}/api/services`, {
      headers: { authorization: `Bearer ${READ_KEY}` },
      signal: AbortSignal.timeout(30_000),
    }).catch(() => null);
    if (res?.status === 200 && ((await res.json()) as { services: unknown[] }).services.length >= FLEET) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("the fleet's aggregators did not settle within 90 s");
}

beforeAll(async () => {
  server = await startDevServer();
  await ingestLogs(fleet(Date.now()));
  await settled();
  browser = await launchBrowser();
  // a fixed locale: uPlot throws at start-up on the "en-US@posix" some headless setups report
  page = await browser.newPage({ viewport: { width: 1400, height: 900 }, locale: "en-US" });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (r.status() === 400) badRequests.push(r.url());
  });
}, 180_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await server?.stop();
}, 30_000);

describe(`dashboard in chromium with ${FLEET} services`, () => {
  it("says why a key is refused (401 unknown, 403 without the read scope) and keeps asking", async () => {
    // its own page: no stored key
    const fresh = await browser!.newPage({ viewport: { width: 1400, height: 900 }, locale: "en-US" });
    try {
      await fresh.goto(server!.url, { waitUntil: "load" });
      const dialog = fresh.locator("#key-dialog");
      await dialog.waitFor({ state: "visible", timeout: 15_000 });
      for (const [key, said] of [
        ["no-such-key", "Key rejected: invalid API key"],
        [INGEST_KEY, 'Key rejected: this key lacks the "read" scope'],
      ] as const) {
        await fresh.fill("#key-input", key);
        await fresh.click("#key-save");
        await fresh.locator("#key-error", { hasText: said }).waitFor({ state: "visible", timeout: 10_000 });
        expect(await fresh.locator("#key-error").textContent()).toBe(said);
        expect(await dialog.isVisible()).toBe(true);
        expect(await fresh.evaluate('localStorage.getItem("edge-logger.read-key")')).toBeNull();
      }
    } finally {
      await fresh.close();
    }
  });

  it("asks for the read key, lists every service, and fits 1400×900 with the live tail on screen", async () => {
    await page.goto(server!.url, { waitUntil: "load" });
    const dialog = page.locator("#key-dialog");
    await dialog.waitFor({ state: "visible", timeout: 15_000 });
    await page.fill("#key-input", READ_KEY);
    await page.click("#key-save");
    await dialog.waitFor({ state: "hidden", timeout: 10_000 });
    await page.locator(`#services-scroll[data-rows="${FLEET}"]`).waitFor({ state: "attached", timeout: 20_000 });
    expect(await page.locator("#services-count").textContent()).toBe(`(${FLEET})`);

    const fits = await pageFits();
    expect(fits.scrollH).toBeLessThanOrEqual(fits.innerH);
    expect(fits.scrollW).toBeLessThanOrEqual(fits.innerW);
    const tail = await page.locator("#tail-panel").boundingBox();
    expect(tail).not.toBeNull();
    expect(tail!.y + tail!.height).toBeLessThanOrEqual(900);
    expect(tail!.height).toBeGreaterThanOrEqual(300);
    // only what is in view is rendered, not 300 rows
    const rendered = (await rowsShown()).length;
    expect(rendered).toBeGreaterThan(10);
    expect(rendered).toBeLessThan(80);
    // the key stays in localStorage, never in the address bar
    expect(await page.evaluate('localStorage.getItem("edge-logger.read-key")')).toBe(READ_KEY);
    expect(page.url()).not.toContain(READ_KEY);
  });

  it("puts the service that breaches its error rate first, and sorts by volume and name on demand", async () => {
    await page.locator('#services-scroll[data-sort="rate"]').waitFor({ state: "attached", timeout: 10_000 });
    expect((await rowsShown())[0]).toBe(ON_FIRE);
    const top = page.locator("#services-body tr[data-service]").first();
    expect(await top.getAttribute("class")).toContain("breached");
    expect(await top.locator("td").nth(3).textContent()).toBe("25"); // errors in the last hour
    // the worst service is selected, so its chart and error rate are the ones shown
    await page.locator(`#chart[data-service="${ON_FIRE}"]`).waitFor({ state: "attached", timeout: 10_000 });
    await expect.poll(() => page.locator("#rate-badge").textContent(), { timeout: 10_000 }).toBe("breached");

    await page.click('th[data-sort="volume"] button');
    await page.locator('#services-scroll[data-sort="volume"]').waitFor({ state: "attached" });
    expect((await rowsShown()).slice(0, 2)).toEqual([BUSY, ON_FIRE]); // 61 and 30 logs in the hour
    expect(await page.getAttribute('th[data-sort="volume"]', "aria-sort")).toBe("descending");
    await page.selectOption("#svc-sort", "name");
    await page.locator('#services-scroll[data-sort="name"]').waitFor({ state: "attached" });
    expect((await rowsShown())[0]).toBe(name(0));
    expect(page.url()).toContain("sort=name");
  });

  it("narrows the list with the filter box and reaches the last service by keyboard", async () => {
    await page.fill("#svc-filter", "fleet-29");
    await page.locator('#services-scroll[data-rows="10"]').waitFor({ state: "attached", timeout: 5000 });
    expect(await rowsShown()).toEqual(Array.from({ length: 10 }, (_, i) => name(290 + i)));
    expect(await page.locator("#services-count").textContent()).toBe(`(10 of ${FLEET})`);
    expect(page.url()).toContain("svc=fleet-29");
    await page.fill("#svc-filter", "");
    await page.locator(`#services-scroll[data-rows="${FLEET}"]`).waitFor({ state: "attached", timeout: 5000 });
    // End jumps to the last row (rendered on demand), Enter selects it
    await page.focus("#services-table");
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.locator(`#services-body tr.selected[data-service="${LAST}"]`).waitFor({ timeout: 5000 });
    await page.locator(`#chart[data-service="${LAST}"]`).waitFor({ state: "attached", timeout: 10_000 });
    expect(page.url()).toContain(`service=${LAST}`);
  });

  it("shows a new log from the last service live in a tail over all services, and opens it", async () => {
    await page.locator('#tail[data-live="1"]').waitFor({ state: "attached", timeout: 20_000 });
    expect(await page.getAttribute("#tail", "data-filter")).toBe(""); // all services, all levels
    const message = unique("live from the last service");
    const liveRequest = unique("live-req");
    await ingestLogs([
      {
        service: LAST,
        level: "warn",
        message,
        request_id: liveRequest,
        metadata: { attempt: 3, upstream: { host: "billing.internal", status: 502 } },
      },
    ]);
    const row = page.locator("#tail li", { hasText: message });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator(".s").textContent()).toBe(LAST);
    expect(await row.locator(".lv").textContent()).toBe("warn");

    await row.click();
    const detail = page.locator("#detail-dialog");
    await detail.waitFor({ state: "visible", timeout: 5000 });
    expect(await detail.locator(".detail-message").textContent()).toBe(message);
    expect(await detail.locator('dd[data-field="request_id"] a').textContent()).toBe(liveRequest);
    const meta = detail.locator(".detail-metadata");
    expect(await meta.locator(".k", { hasText: "upstream" }).count()).toBe(1);
    expect(await meta.locator(".v", { hasText: "billing.internal" }).count()).toBe(1);
    await page.keyboard.press("Escape");
    await detail.waitFor({ state: "hidden", timeout: 5000 });
  });

  it("renders log text as text, never as markup", async () => {
    const marker = unique("xss");
    const message = `<img src=x data-marker="${marker}"> <script>window.pwned=1</script> ${marker}`;
    await ingestLogs([{ service: name(7), level: "error", message }]);
    const row = page.locator("#tail li", { hasText: marker });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator(".m").textContent()).toBe(message);
    expect(await page.locator(`img[data-marker="${marker}"]`).count()).toBe(0);
    expect(await page.evaluate("window.pwned")).toBeUndefined();
  });

  it("filters the tail and the search to a pattern clicked in the patterns panel", async () => {
    // the selected service is the last one (previous tests); its health checks form one pattern
    const pattern = page.locator("#patterns button.pt", { hasText: "GET" }).first();
    await pattern.waitFor({ timeout: 15_000 });
    const patternId = await pattern.getAttribute("data-pattern-id");
    expect(patternId).toBeTruthy();
    await pattern.click();
    expect(await pattern.getAttribute("aria-pressed")).toBe("true");
    expect(await page.isVisible("#pattern-chip")).toBe(true);
    expect(page.url()).toContain(`pattern=${patternId}`);
    await page
      .locator(`#tail[data-filter="pattern_id=${patternId}"][data-live="1"]`)
      .waitFor({ state: "attached", timeout: 20_000 });
    const matching = `GET /health 200 in ${Date.now() % 1000} ms`;
    const other = unique("not the health pattern");
    await ingestLogs([
      { service: LAST, level: "info", message: other },
      { service: LAST, level: "info", message: matching },
    ]);
    await page.locator("#tail li", { hasText: matching }).first().waitFor({ timeout: 15_000 });
    expect(await page.locator("#tail li", { hasText: other }).count()).toBe(0);

    await page.click("#tab-search");
    await page.locator('#results[data-state="done"]').waitFor({ state: "attached", timeout: 30_000 });
    const messages = await page.locator("#results li.logrow .m").allTextContents();
    expect(messages).toContain(matching);
    expect(messages.length).toBeGreaterThanOrEqual(4); // the last service's 3 health checks and the new one
    for (const m of messages) expect(m).toMatch(/^GET \/health 200 in \d+ ms$/);
    await page.click("#pattern-clear");
    expect(await page.isVisible("#pattern-chip")).toBe(false);
    expect(page.url()).not.toContain("pattern=");
    await page.click("#tab-live");
  });

  it("finds a request id by history search, shows the matched field, and opens the entry to its metadata", async () => {
    if (await page.isVisible("#pattern-chip")) await page.click("#pattern-clear"); // left by a failed test above
    await page.click("#tab-search");
    await page.fill("#f-q", requestId);
    await page.press("#f-q", "Enter");
    const results = page.locator("#results li.logrow");
    await page.locator('#results[data-state="done"]').waitFor({ state: "attached", timeout: 30_000 });
    expect(await results.count()).toBe(1);
    const hit = results.first();
    expect(await hit.locator(".s").textContent()).toBe(name(250));
    expect(await hit.locator(".match").getAttribute("data-matched")).toBe("request_id");
    expect(page.url()).toContain("tab=search");
    expect(page.url()).toContain(`q=${requestId}`);

    await hit.focus();
    await page.keyboard.press("Enter");
    const detail = page.locator("#detail-dialog");
    await detail.waitFor({ state: "visible", timeout: 5000 });
    expect(await detail.locator('dd[data-field="user_id"]').textContent()).toBe(userId);
    expect(await detail.locator(".detail-metadata .v", { hasText: "sku-nested-leaf" }).count()).toBe(1);
    expect(await detail.locator(".detail-context .v", { hasText: "203.0.113.9" }).count()).toBe(1);
    expect(await detail.locator("pre.stack").textContent()).toContain("at checkout (shop.js:42:3)");

    // the user id links to a search for that user's logs
    await detail.locator('dd[data-field="user_id"] a').click();
    await detail.waitFor({ state: "hidden", timeout: 5000 });
    expect(await page.inputValue("#f-q")).toBe(`user_id:${userId}`);
    await page.locator('#results[data-state="done"]').waitFor({ state: "attached", timeout: 30_000 });
    expect(await results.count()).toBe(1);
    expect(await results.first().locator(".match").getAttribute("data-matched")).toBe("user_id");

    // a plain word searches messages only, over the time range
    await page.fill("#f-q", "card declined");
    await page.press("#f-q", "Enter");
    await page.locator('#results[data-state="done"]').waitFor({ state: "attached", timeout: 30_000 });
    expect(await results.count()).toBe(1);
    expect(await results.first().locator(".match").getAttribute("data-matched")).toBe("message");
  });

  it("keeps the view in the URL across a reload, and never the key", async () => {
    await page.reload({ waitUntil: "load" });
    await page.locator('#results[data-state="done"]').waitFor({ state: "attached", timeout: 30_000 });
    expect(await page.getAttribute("#tab-search", "aria-selected")).toBe("true");
    expect(await page.inputValue("#f-q")).toBe("card declined");
    expect(await page.locator("#results li.logrow").count()).toBe(1);
    expect(await page.locator(`#services-body tr.selected[data-service="${LAST}"]`).count()).toBe(1);
    expect(page.url()).not.toContain(READ_KEY);
    expect(page.url()).not.toContain("token");
    await page.click("#tab-live");
    await page.fill("#f-q", "");
    await page.press("#f-q", "Enter");
    await page.locator('#tail[data-filter=""][data-live="1"]').waitFor({ state: "attached", timeout: 20_000 });
    await page.waitForTimeout(1000); // a poll lands so the screenshot shows fresh counts
    mkdirSync(join(ROOT, "test-results"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "test-results", "dashboard.png") });
  });

  it("stays usable at 1280×720 and at phone width", async () => {
    await page.click("#tab-live");
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.waitForTimeout(300);
    const fits = await pageFits();
    expect(fits.scrollH).toBeLessThanOrEqual(fits.innerH);
    const tail = await page.locator("#tail-panel").boundingBox();
    expect(tail!.y + tail!.height).toBeLessThanOrEqual(720);
    expect(tail!.height).toBeGreaterThanOrEqual(200);
    await page.screenshot({ path: join(ROOT, "test-results", "dashboard-1280.png") });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const phone = await pageFits();
    expect(phone.scrollW).toBeLessThanOrEqual(phone.innerW); // no sideways scrolling
    const services = await page.locator("#services-scroll").boundingBox();
    expect(services!.height).toBeGreaterThan(100);
    const tailBox = await page.locator("#tail-panel").boundingBox();
    expect(tailBox!.height).toBeGreaterThan(300);
    await page.screenshot({ path: join(ROOT, "test-results", "dashboard-phone.png"), fullPage: true });
    await page.setViewportSize({ width: 1400, height: 900 });

    // 503 (error rate breached) and 404/503 (no pattern history yet) are answers the page expects;
    // anything else (a CSP violation, a script error) is a bug.
    // A 400 is expected only for the implicit trace_id search on a server whose search API does not
    // know trace_id yet (the page skips that field and says so); any other 400 is a bug.
    expect(badRequests.filter((u) => !/[?&]trace_id=/.test(u))).toEqual([]);
    const expected = new RegExp(
      `Failed to load resource: the server responded with a status of (404|503${badRequests.length ? "|400" : ""})`,
    );
    expect(problems.filter((p) => !expected.test(p))).toEqual([]);
  });
});
