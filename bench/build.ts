// Bundles the logger (src/index.ts) and the bench-only ceiling worker to plain ES modules for
// Miniflare, the way wrangler would: the dashboard's .js/.css and uPlot's dist files are Text
// modules (wrangler.toml [[rules]]), .html is text (wrangler's default Text rule).
import { build, type Plugin } from "esbuild";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Mirrors the [[rules]] Text globs of wrangler.toml. */
const TEXT_RE = /([\\/]dashboard[\\/][^\\/]+\.(js|css)|uPlot\.iife\.min\.js|uPlot\.min\.css)$/;

const textRules: Plugin = {
  name: "wrangler-text-rules",
  setup(b) {
    b.onLoad({ filter: TEXT_RE }, (args) => ({ contents: readFileSync(args.path, "utf8"), loader: "text" }));
  },
};

async function bundle(entry: string, outfile: string): Promise<void> {
  await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    loader: { ".html": "text", ".txt": "text", ".sql": "text" },
    plugins: [textRules],
    logLevel: "warning",
    minify: false,
  });
}

export interface Bundles {
  dir: string;
  logger: string;
  ceiling: string;
}

export async function buildBundles(): Promise<Bundles> {
  const dir = mkdtempSync(join(tmpdir(), "edge-logger-bench-build-"));
  const logger = join(dir, "logger.js");
  const ceiling = join(dir, "ceiling.js");
  await Promise.all([bundle("src/index.ts", logger), bundle("bench/ceiling-worker.ts", ceiling)]);
  return { dir, logger, ceiling };
}
