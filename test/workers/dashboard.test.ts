// The dashboard's delivery: the page with a strict CSP, its assets (uPlot bundled in the Worker,
// not a CDN) with the right content types, and JSON 404s. The page itself is exercised in a real
// browser by test/e2e/dashboard.e2e.test.ts.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import type { Env } from "../../src/env.js";
import { call } from "./helpers.js";

describe("dashboard", () => {
  it("serves the page without a key, with a CSP that allows only same-origin scripts", async () => {
    const res = await call("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await res.text();
    expect(html).toContain('<script defer src="/assets/uplot.js"></script>');
    expect(html).toContain('<script type="module" src="/assets/dashboard.js"></script>');
    // no inline script: every <script> has a src
    expect(html.match(/<script(?![^>]*\ssrc=)[^>]*>/g)).toBeNull();
  });

  it("serves uPlot and the dashboard's own files from the Worker with their content types", async () => {
    const cases = [
      ["/assets/uplot.js", "text/javascript; charset=utf-8", "uPlot"],
      ["/assets/uplot.css", "text/css; charset=utf-8", ".uplot"],
      ["/assets/dashboard.js", "text/javascript; charset=utf-8", "/api/tail"],
      ["/assets/dashboard.css", "text/css; charset=utf-8", ".services-scroll"],
      ["/assets/services-table.js", "text/javascript; charset=utf-8", "export class ServicesTable"],
      ["/assets/history-search.js", "text/javascript; charset=utf-8", "export class MergedSearch"],
      ["/assets/log-view.js", "text/javascript; charset=utf-8", "export function renderDetail"],
      ["/assets/view-state.js", "text/javascript; charset=utf-8", "export function writeView"],
    ] as const;
    for (const [path, type, marker] of cases) {
      const res = await call(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toBe(type);
      const body = await res.text();
      expect(body.length, path).toBeGreaterThan(500);
      expect(body, path).toContain(marker);
    }
    // the iife build defines the global the page uses
    expect(await (await call("/assets/uplot.js")).text()).toMatch(/var uPlot\s*=/);
  });

  it("serves every module the dashboard's ES modules import (a split file can't 404)", async () => {
    const seen = new Set<string>();
    const queue = ["dashboard.js"];
    while (queue.length) {
      const name = queue.shift()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const res = await call(`/assets/${name}`);
      expect(res.status, name).toBe(200);
      const body = await res.text();
      for (const m of body.matchAll(/from "\.\/([a-z-]+\.js)"/g)) queue.push(m[1]);
    }
    expect([...seen].sort()).toEqual([
      "dashboard.js",
      "history-search.js",
      "log-view.js",
      "services-table.js",
      "view-state.js",
    ]);
  });

  it("answers an unknown asset with a JSON 404", async () => {
    for (const path of [
      "/assets/nope.js",
      "/assets/",
      "/assets/../src/app.ts",
      "/assets/a/b.css",
      "/assets/constructor",
    ]) {
      const res = await call(path);
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toMatchObject({ error: { code: "not_found" } });
    }
  });

  it("serves the page even when API_KEYS is not configured (the API then fails loudly)", async () => {
    const bare = { ...(env as unknown as Env), API_KEYS: undefined } as Env;
    const app = buildApp();
    const page = await app.fetch(new Request("http://logger.test/"), bare);
    expect(page.status).toBe(200);
    const asset = await app.fetch(new Request("http://logger.test/assets/uplot.js"), bare);
    expect(asset.status).toBe(200);
    const apiCall = await app.fetch(
      new Request("http://logger.test/api/services", { headers: { authorization: "Bearer dev-read-key" } }),
      bare,
    );
    expect(apiCall.status).toBe(500);
  });
});
