// GET / (the live dashboard) and GET /assets/* (its ES modules, styles and uPlot). No auth: the page
// asks for a read key and keeps it in the browser. The files are imported as text (wrangler.toml
// [[rules]] type "Text"), so uPlot ships inside the Worker bundle: no CDN, no build step, and the
// same under `wrangler dev`, `wrangler deploy` and vitest-pool-workers.
import { Hono } from "hono";
import pageHtml from "../dashboard/index.html";
import dashboardCss from "../dashboard/dashboard.css";
import dashboardJs from "../dashboard/dashboard.js";
import historySearchJs from "../dashboard/history-search.js";
import logViewJs from "../dashboard/log-view.js";
import servicesTableJs from "../dashboard/services-table.js";
import viewStateJs from "../dashboard/view-state.js";
import uplotCss from "uplot/dist/uPlot.min.css";
import uplotJs from "uplot/dist/uPlot.iife.min.js";
import { errorBody } from "../errors.js";
import type { AppEnv } from "./context.js";

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** Everything the page loads. Names are fixed, so a short cache with revalidation is enough. */
const ASSETS: Record<string, { body: string; type: string }> = {
  "dashboard.js": { body: dashboardJs, type: JS },
  "history-search.js": { body: historySearchJs, type: JS },
  "log-view.js": { body: logViewJs, type: JS },
  "services-table.js": { body: servicesTableJs, type: JS },
  "view-state.js": { body: viewStateJs, type: JS },
  "dashboard.css": { body: dashboardCss, type: CSS },
  "uplot.js": { body: uplotJs, type: JS },
  "uplot.css": { body: uplotCss, type: CSS },
};

/**
 * Scripts only from this origin (no inline script, no eval), so injected log text can't run even
 * if it slipped past textContent. connect-src 'self' covers the tail WebSocket on this host.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

export const dashboardRoutes = new Hono<AppEnv>();

dashboardRoutes.get(
  "/",
  () =>
    new Response(pageHtml, {
      headers: { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" },
    }),
);

dashboardRoutes.get("/assets/*", (c) => {
  const name = c.req.path.slice("/assets/".length);
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!asset) return c.json(errorBody("not_found", `no asset ${name}`), 404);
  return new Response(asset.body, {
    headers: {
      ...SECURITY_HEADERS,
      "content-type": asset.type,
      "cache-control": "public, max-age=300, must-revalidate",
    },
  });
});
