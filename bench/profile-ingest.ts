// Diagnostic, not part of `npm run bench`: CPU profile of the logger's isolate (Worker and its
// Durable Objects share it) while 8 clients ingest batches of 100 into one service, taken over
// the V8 inspector of workerd. Prints self and inclusive time per function (top 30), and the
// share of samples where the isolate was idle (waiting on I/O, storage commits, the network).
//   npx tsx bench/profile-ingest.ts [path=/api/logs/batch] [services=1] [seconds=6] [persist=disk|memory]
import { rmSync } from "node:fs";
import WebSocket from "ws";
import { buildBundles } from "./build.js";
import { Client, runLoad } from "./load.js";
import { makeBodies } from "./messages.js";
import { INGEST_KEY, startServer } from "./server.js";
import { freePort } from "../test/e2e/harness.js"; // one free-port helper for tests and bench

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [path = "/api/logs/batch", servicesArg = "1", secondsArg = "6", persistArg = "disk"] = process.argv.slice(2);
const services = Number(servicesArg);
const seconds = Number(secondsArg);

const hard = setTimeout(() => {
  console.error("profile: hard limit (120 s)");
  process.exit(3);
}, 120_000);
hard.unref();

const bundles = await buildBundles();
const inspectorPort = await freePort();
const server = await startServer(bundles, {}, { inspectorPort, persist: persistArg !== "memory" });
const pids = server.workerdPids();
process.on("exit", () =>
  pids.forEach((p) => {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      /* gone */
    }
  }),
);
try {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as {
    id: string;
    title?: string;
    webSocketDebuggerUrl?: string;
  }[];
  const want = path.startsWith("/__bench/") ? "core:user:bench-ceiling" : "core:user:edge-logger";
  const target = targets.find((t) => (t.title ?? t.id).includes(want)) ?? targets[0];
  console.error(
    `inspector targets: ${targets.map((t) => t.title ?? t.id).join(", ")}; profiling ${target.title ?? target.id}`,
  );
  const ws = new WebSocket(target.webSocketDebuggerUrl ?? `ws://127.0.0.1:${inspectorPort}/${target.id}`);
  await new Promise((ok, fail) => {
    ws.once("open", ok);
    ws.once("error", fail);
  });
  let nextId = 1;
  const pending = new Map<number, (v: unknown) => void>();
  ws.on("message", (d) => {
    const m = JSON.parse(d.toString()) as { id?: number; result?: unknown };
    if (m.id !== undefined) pending.get(m.id)?.(m.result);
  });
  const call = <T>(method: string, params: object = {}) =>
    new Promise<T>((ok) => {
      const id = nextId++;
      pending.set(id, ok as (v: unknown) => void);
      ws.send(JSON.stringify({ id, method, params }));
    });

  const client = new Client(server.url, 8);
  const bodies = makeBodies(11, 200, 100, (i) => `prof-svc-${i % services}`);
  const headers = { authorization: `Bearer ${INGEST_KEY}`, "content-type": "application/json" };
  // warm-up outside the profile
  await runLoad({
    client,
    path,
    headers,
    body: (i) => ({ body: bodies[i % bodies.length], entries: 100 }),
    concurrency: 8,
    warmupMs: 0,
    durationMs: 2000,
  });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 200 });
  await call("Profiler.start");
  const r = await runLoad({
    client,
    path,
    headers,
    body: (i) => ({ body: bodies[i % bodies.length], entries: 100 }),
    concurrency: 8,
    warmupMs: 0,
    durationMs: seconds * 1000,
  });
  const { profile } = await call<{ profile: Profile }>("Profiler.stop");
  console.log(
    `load: ${Math.round(r.logsPerSec)} logs/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ""}`,
  );

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode) =>
    `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/").pop()}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const n = byId.get(id)!;
    self.set(label(n), (self.get(label(n)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      incl.set(l, (incl.get(l) ?? 0) + dt);
    }
  });
  const idle = [...self].filter(([k]) => k.startsWith("(idle)")).reduce((s, [, v]) => s + v, 0);
  console.log(
    `profile: ${total.toFixed(0)} ms sampled, idle ${((idle / total) * 100).toFixed(1)}%, busy ${(((total - idle) / total) * 100).toFixed(1)}%`,
  );
  const top = (m: Map<string, number>, title: string) => {
    console.log(`\n${title}`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, 30))
      console.log(`${((v / total) * 100).toFixed(1).padStart(6)}%  ${v.toFixed(0).padStart(6)} ms  ${k}`);
  };
  top(self, "self time");
  top(incl, "inclusive time");
  ws.close();
  client.close();
} finally {
  await server.dispose();
  rmSync(bundles.dir, { recursive: true, force: true });
}
process.exit(0);
