// The dashboard in a real browser (Chromium from the npm registry, through playwright-core) against the logger
// under `wrangler dev`: enter the dev read key, see the services and a chart with data, and see a
// newly ingested log in the tail pane within 2 seconds. Screenshot: test-results/dashboard.png.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, ingest, type LogInput, READ_KEY, ROOT, startDevServer, unique } from "./harness.js";
import { launchBrowser } from "./browser.js";

const SERVICES = ["e2e-api", "e2e-worker"];

let server: DevServer | undefined;
let browser: Browser | undefined;
let page: Page;
const problems: string[] = [];

/** Half an hour of traffic for both services, so the chart has several minutes with data. */
function history(): LogInput[] {
  const now = Date.now();
  const logs: LogInput[] = [];
  const messages: Record<string, string[]> = {
    error: ["db timeout after 3000 ms", "upstream 502 from billing"],
    warn: ["slow query took 812 ms", "retrying request to auth"],
    info: ["GET /users 200", "POST /orders 201", "cache hit ratio 0.93"],
    debug: ["loaded config in 12 ms"],
  };
  for (const service of SERVICES) {
    for (let i = 0; i < 120; i++) {
      const level = i % 13 === 0 ? "error" : i % 7 === 0 ? "warn" : i % 5 === 0 ? "debug" : "info";
      const pool = messages[level]!;
      logs.push({
        service,
        level,
        message: `${pool[i % pool.length]} (#${i})`,
        timestamp: now - Math.floor((i / 120) * 30 * 60_000) - 1000,
      });
    }
  }
  return logs;
}

beforeAll(async () => {
  server = await startDevServer();
  await ingest(server.url, history());
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
}, 180_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await server?.stop();
}, 30_000);

describe("dashboard in chromium", () => {
  it("asks for the read key, shows the services and a chart with data, and keeps the key", async () => {
    await page.goto(server!.url, { waitUntil: "load" });
    const dialog = page.locator("#key-dialog");
    await dialog.waitFor({ state: "visible", timeout: 5000 });
    await page.fill("#key-input", READ_KEY);
    await page.click("#key-save");
    await dialog.waitFor({ state: "hidden", timeout: 10_000 });

    for (const s of SERVICES) await page.locator(`#services-body tr[data-service="${s}"]`).waitFor({ timeout: 10_000 });
    const apiRow = page.locator('#services-body tr[data-service="e2e-api"] td');
    expect(await apiRow.nth(2).textContent()).toBe("120"); // 1 h total

    await page.locator("#chart canvas").first().waitFor({ timeout: 10_000 });
    // the page writes the plotted series' sum and length on the chart element (data-total, data-points)
    await page.waitForFunction("Number(document.querySelector('#chart').dataset.total) > 0", undefined, {
      timeout: 10_000,
    });
    const box = page.locator("#chart");
    expect(await box.getAttribute("data-service")).toBe("e2e-api");
    expect(Number(await box.getAttribute("data-total"))).toBe(120);
    expect(Number(await box.getAttribute("data-points"))).toBeGreaterThanOrEqual(60);
    expect(await page.locator("#rate-badge").textContent()).toMatch(/ok|breached/);

    expect(await page.evaluate('localStorage.getItem("edge-logger.read-key")')).toBe(READ_KEY);
    // the key never goes into page or asset URLs (only the tail socket's ?token=)
    expect(page.url()).not.toContain(READ_KEY);
  });

  it("shows a newly ingested log in the tail pane within 2 seconds", async () => {
    await page.locator('#tail[data-live="1"]').waitFor({ state: "attached", timeout: 10_000 });
    const message = unique("e2e live tail check");
    const started = Date.now();
    await ingest(server!.url, [{ service: "e2e-api", level: "warn", message }]);
    await page
      .locator("#tail li", { hasText: message })
      .waitFor({ timeout: Math.max(100, 2000 - (Date.now() - started)) });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(2000);
    const row = page.locator("#tail li", { hasText: message });
    expect(await row.locator(".lv").textContent()).toBe("warn");
    expect(await row.locator(".s").textContent()).toBe("e2e-api");
  });

  it("renders log text as text, never as markup", async () => {
    const marker = unique("xss");
    const message = `<img src=x data-marker="${marker}"> <script>window.pwned=1</script> ${marker}`;
    await ingest(server!.url, [{ service: "e2e-worker", level: "error", message }]);
    const row = page.locator("#tail li", { hasText: marker });
    await row.waitFor({ timeout: 5000 });
    expect(await row.locator(".m").textContent()).toBe(message);
    expect(await page.locator(`img[data-marker="${marker}"]`).count()).toBe(0);
    expect(await page.evaluate("window.pwned")).toBeUndefined();
  });

  it("filters the tail by level and remembers the key across a reload", async () => {
    await page.reload({ waitUntil: "load" });
    await page.locator('#tail[data-live="1"]').waitFor({ state: "attached", timeout: 10_000 });
    expect(await page.locator("#key-dialog").isVisible()).toBe(false);
    // only errors
    for (const l of ["warn", "info", "debug"]) await page.locator(`#tail-filters input[value="${l}"]`).uncheck();
    await page
      .locator('#tail[data-filter="level=error"][data-live="1"]')
      .waitFor({ state: "attached", timeout: 10_000 });
    const info = unique("e2e filtered info");
    const error = unique("e2e filtered error");
    await ingest(server!.url, [
      { service: "e2e-api", level: "info", message: info },
      { service: "e2e-api", level: "error", message: error },
    ]);
    await page.locator("#tail li", { hasText: error }).waitFor({ timeout: 3000 });
    expect(await page.locator("#tail li", { hasText: info }).count()).toBe(0);
    const levels = await page.locator("#tail li:not(.notice) .lv").allTextContents();
    expect(new Set(levels)).toEqual(new Set(["error"]));
    for (const l of ["warn", "info", "debug"]) await page.locator(`#tail-filters input[value="${l}"]`).check();
    await page.locator('#tail[data-filter=""][data-live="1"]').waitFor({ state: "attached", timeout: 10_000 });
    // let a poll land so the screenshot shows fresh counts
    await page.waitForTimeout(1500);

    mkdirSync(join(ROOT, "test-results"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "test-results", "dashboard.png"), fullPage: true });
    // 503 (error rate breached) and 404/503 (no pattern history yet) are answers the page expects;
    // anything else (a CSP violation, a script error) is a bug.
    const expected = /Failed to load resource: the server responded with a status of (404|503)/;
    expect(problems.filter((p) => !expected.test(p))).toEqual([]);
  });
});
