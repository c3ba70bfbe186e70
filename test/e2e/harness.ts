// Plumbing for the e2e project: starts `node scripts/dev.mjs` (the logger with the reference data
// service under `wrangler dev`) on a free port with its own temporary state, waits for /health,
// and kills the whole process group (wrangler, workerd) afterwards, even when a test failed.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
export const INGEST_KEY = "dev-ingest-key";
export const READ_KEY = "dev-read-key";

/** Every process group we started, so an aborted run still kills them (see the exit hook below). */
const groups = new Set<number>();
process.once("exit", () => {
  for (const pid of groups) killGroup(pid, "SIGKILL");
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? ok(addr.port) : fail(new Error("no port"))));
    });
  });
}

/** A detached child in its own process group, with its output kept for failure messages. */
export interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  stop: () => Promise<void>;
}

export function spawnGroup(cmd: string, args: string[], env: Record<string, string>): Spawned {
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid) groups.add(child.pid);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      const pid = child.pid;
      if (!pid) return;
      killGroup(pid, "SIGTERM");
      const timer = new Promise<"timeout">((ok) => setTimeout(() => ok("timeout"), 5000).unref());
      if ((await Promise.race([exited, timer])) === "timeout") killGroup(pid, "SIGKILL");
      // workerd may outlive its parent for a moment: make sure the group is gone
      killGroup(pid, "SIGKILL");
      groups.delete(pid);
    },
  };
}

export interface DevServer {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

export async function startDevServer(): Promise<DevServer> {
  const port = await freePort();
  const inspector = await freePort();
  const persistDir = mkdtempSync(join(tmpdir(), "edge-logger-e2e-"));
  const proc = spawnGroup(process.execPath, ["scripts/dev.mjs", "--inspector-port", String(inspector)], {
    PORT: String(port),
    PERSIST_DIR: persistDir,
    CI: "1",
  });
  const url = `http://127.0.0.1:${port}`;
  const output = () => `${proc.stdout()}\n${proc.stderr()}`.slice(-8000);
  const server: DevServer = {
    url,
    output,
    async stop() {
      await proc.stop();
      rmSync(persistDir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) {
      await server.stop();
      throw new Error(`scripts/dev.mjs exited with ${proc.child.exitCode}:\n${output()}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return server;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await server.stop();
  throw new Error(`the logger did not answer /health within 120 s:\n${output()}`);
}

export interface LogInput {
  level: string;
  message: string;
  service: string;
  timestamp?: number;
  id?: string;
}

export async function ingest(url: string, logs: LogInput[]): Promise<void> {
  const res = await fetch(`${url}/api/logs/batch`, {
    method: "POST",
    headers: { authorization: `Bearer ${INGEST_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ logs }),
  });
  const body = (await res.json()) as { accepted?: number };
  if (res.status !== 202 || body.accepted !== logs.length)
    throw new Error(`ingest: HTTP ${res.status} ${JSON.stringify(body)}`);
}

export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
