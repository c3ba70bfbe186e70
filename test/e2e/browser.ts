// The browser for e2e tests comes from the npm registry: @sparticuz/chromium ships a Chromium
// binary inside the package (unpacked to /tmp on first use), so `npm install && npm test` needs no
// system browser. CHROMIUM_PATH overrides it (for example a distribution's /usr/bin/chromium).
// A browser that cannot start fails the test run: the browser tests are never skipped.
import sparticuz from "@sparticuz/chromium";
import { type Browser, chromium } from "playwright-core";

const ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? (await sparticuz.executablePath());
  return chromium.launch({ executablePath, args: ARGS, headless: true });
}
