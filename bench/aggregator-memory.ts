// The aggregator's in-memory state, measured in Node (workerd has no per-object heap reading):
// the same pure modules a LogAggregator holds — PatternEngine (PatternMiner capped at
// MAX_PATTERNS, PatternBook, learned labels) and RollingCounters — fed 1M logs drawn from 100k
// distinct messages (5,000 event shapes x 20 variants, far above the pattern cap), with a
// checkpoint (which compacts the PatternBook, as the alarm does) every CHECKPOINT_EVERY logs.
// Heap used is read after a full GC at 250k/500k/750k/1M, just before that checkpoint (the peak
// between two alarms) and just after it.
//
// Run in a child with GC exposed: `node --expose-gc --import tsx bench/aggregator-memory.ts`.
// Prints one JSON line per figure on stdout.
import { PatternEngine } from "../objects/pattern-engine.js";
import { RollingCounters } from "../src/core/rolling-counters.js";
import type { Level } from "../src/schema/log-entry.js";

const TOTAL = 1_000_000;
const FAMILIES = 5000;
const VARIANTS = 20;
/** Logs between two alarms: 5 s (snapshot interval) at 10,000 logs/s. */
const CHECKPOINT_EVERY = Number(process.env.CHECKPOINT_EVERY ?? 50_000);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error("aggregator-memory: run with node --expose-gc");
  process.exit(2);
}

/** A SqlStorage stand-in: the engine only writes its checkpoint (setMeta) and reads meta. */
let lastCheckpointBytes = 0;
const fakeSql = {
  exec(query: string, ...params: unknown[]) {
    if (query.startsWith("INSERT INTO meta")) lastCheckpointBytes = Buffer.byteLength(String(params[1]));
    return { toArray: () => [], one: () => ({}), [Symbol.iterator]: function* () {} };
  },
} as unknown as SqlStorage;

function word(n: number): string {
  let s = "";
  do {
    s += String.fromCharCode(97 + (n % 26));
    n = Math.floor(n / 26);
  } while (n > 0);
  return s;
}

function message(family: number, variant: number): string {
  const [a, b, c] = [word(family * 3 + 7), word(family * 5 + 11), word(family * 7 + 13)];
  switch (family % 4) {
    case 0:
      return `${a} ${b} job ${variant} finished on worker ${c} after ${variant % 97} retries`;
    case 1:
      return `${a} request ${variant} to ${b} took ${variant % 1000} ms ${c} status=${200 + (variant % 3)}`;
    case 2:
      return `${a} ${b} cache miss for key user:${variant} in ${c} size ${variant * 7} bytes`;
    default:
      return `${a} connection from 10.0.${variant % 256}.${(variant >> 8) % 256}:${1024 + variant} ${b} ${c} closed`;
  }
}

const LEVELS: Level[] = ["info", "info", "info", "warn", "error", "debug"];

const emit = (name: string, value: number, unit: string) => console.log(JSON.stringify({ name, value, unit }));
// Absolute heap used of this Node process (the 100k input messages, ~10 MB, included). An
// "empty" baseline is not reported: V8 frees start-up bytecode over the first GCs, so it reads high.
const heapMb = () => Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10;

const messages: string[] = [];
for (let f = 0; f < FAMILIES; f++) for (let v = 0; v < VARIANTS; v++) messages.push(message(f, f * VARIANTS + v));

const engine = new PatternEngine(fakeSql);
const counters = new RollingCounters();
let seed = 12345;
const t0 = Date.now();
let checkpointMs = 0;
let _checkpoints = 0;
const start = performance.now();
const peaks: number[] = [];
const afters: number[] = [];
for (let i = 1; i <= TOTAL; i++) {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  const now = t0 + Math.floor(i / 10); // 10,000 logs per simulated second
  const level = LEVELS[seed % LEVELS.length];
  const e = { message: messages[seed % messages.length], level, timestamp: now, received_at: now };
  engine.assign(e);
  engine.advance(i);
  counters.add(level, now, now);
  const mark = i % 250_000 === 0;
  if (mark) {
    gc();
    peaks.push(heapMb());
  }
  if (i % CHECKPOINT_EVERY === 0 || mark) {
    const c0 = performance.now();
    engine.checkpoint();
    checkpointMs = performance.now() - c0;
    _checkpoints++;
  }
  if (mark) {
    gc();
    afters.push(heapMb());
    emit(`aggregator_state_heap_at_${i / 1000}k_before_checkpoint`, peaks[peaks.length - 1], "MB");
    emit(`aggregator_state_heap_at_${i / 1000}k_after_checkpoint`, afters[afters.length - 1], "MB");
  }
}
const ms = performance.now() - start;
emit("aggregator_state_live_patterns", engine.size, "patterns");
emit("aggregator_state_evicted_total", engine.evictedTotal, "patterns");
emit(
  "aggregator_state_logs_per_s",
  Math.round((TOTAL / ms) * 1000),
  "logs/s (assign + counters + checkpoints, single core)",
);
emit(
  "aggregator_checkpoint_ms_at_cap",
  Math.round(checkpointMs * 10) / 10,
  "ms (one checkpoint: compact + JSON.stringify)",
);
emit("aggregator_checkpoint_bytes_at_cap", lastCheckpointBytes, "bytes (one SQLite value, limit 2 MB)");
emit(
  "aggregator_state_heap_growth_250k_to_1m",
  Math.round((peaks[3] - peaks[0]) * 10) / 10,
  "MB (before-checkpoint peaks)",
);
emit("aggregator_state_heap_growth_250k_to_1m_after_checkpoint", Math.round((afters[3] - afters[0]) * 10) / 10, "MB");
