// `npm run dev`: the logger on 127.0.0.1:8787 with the reference data service bound as
// DATA_SERVICE. Creates .dev.vars from .dev.vars.example when missing and applies the data
// service's D1 migrations to the local state first, so a fresh clone works with one command.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { dirname } from "node:path";

const wrangler = ["node_modules/wrangler/bin/wrangler.js"];
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
};
// PERSIST_DIR: local state elsewhere (the e2e tests use a fresh temporary directory).
const persist = [process.env.PERSIST_DIR ?? ".wrangler/state"];

for (const target of [".dev.vars", "data-service/.dev.vars"]) {
  if (
    !existsSync(target) &&
    existsSync(".dev.vars.example") &&
    existsSync(dirname(target) === "." ? "wrangler.toml" : `${dirname(target)}/wrangler.toml`)
  ) {
    copyFileSync(".dev.vars.example", target);
    console.log(`created ${target} from .dev.vars.example (dev keys: dev-ingest-key, dev-read-key, dev-admin-key)`);
  }
}

const configs = ["-c", "wrangler.toml"];
if (existsSync("data-service/wrangler.toml")) {
  const migrate = spawnSync(
    process.execPath,
    [
      ...wrangler,
      "d1",
      "migrations",
      "apply",
      "DB",
      "--local",
      "-c",
      "data-service/wrangler.toml",
      "--persist-to",
      ...persist,
    ],
    { stdio: "inherit", env: { ...env, CI: "1" } },
  );
  if (migrate.status !== 0) process.exit(migrate.status ?? 1);
  configs.push("-c", "data-service/wrangler.toml");
}

const port = process.env.PORT ?? "8787";
const child = spawn(
  process.execPath,
  [
    ...wrangler,
    "dev",
    ...configs,
    "--ip",
    "127.0.0.1",
    "--port",
    port,
    "--persist-to",
    ...persist,
    ...process.argv.slice(2),
  ],
  {
    stdio: "inherit",
    env,
  },
);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
