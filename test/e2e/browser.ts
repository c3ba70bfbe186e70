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

// Chromium on Linux takes its locale from LANG/LANGUAGE: under the C locale of CI containers
// (LANG=C.UTF-8) navigator.language is "en-US@posix", which Intl rejects, so uPlot throws at load
// and the dashboard has no chart. A fixed locale makes the run the same on every machine.
const LOCALE_ENV = { LANG: "en_US.UTF-8", LANGUAGE: "en_US" };

export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? (await sparticuz.executablePath());
  return chromium.launch({ executablePath, args: ARGS, headless: true, env: { ...process.env, ...LOCALE_ENV } });
}
