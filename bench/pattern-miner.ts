// Pattern miner benchmark: throughput on the Loghub-2k dev set and memory under the pattern cap.
// `npx tsx bench/pattern-miner.ts` prints one JSON line per figure; `runPatternMinerBench()`
// returns the same figures for a bench runner. Single core, in Node.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { PatternMiner } from "../src/core/pattern-miner.js";
import { listDatasets, loadDataset } from "../scripts/loghub.js";

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The dev set next to the repo (a clone) or next to its worktree folder (a git worktree). */
const DEV_SET =
  [join(REPO, "../shared/data/loghub-2k"), join(REPO, "../../shared/data/loghub-2k")].find((d) => existsSync(d)) ??
  join(REPO, "../shared/data/loghub-2k");

/** Lines to mine: the dev set's message contents, or a synthetic stand-in when it is absent. */
function throughputCorpus(): { source: string; datasets: string[][] } {
  const names = existsSync(DEV_SET) ? listDatasets(DEV_SET) : [];
  if (names.length > 0) {
    return { source: "loghub-2k dev set", datasets: names.map((n) => loadDataset(DEV_SET, n).contents) };
  }
  const lines: string[] = [];
  for (let i = 0; i < 16000; i++) lines.push(syntheticMessage(i % 400, i));
  return { source: "synthetic (dev set not found)", datasets: [lines] };
}

/**
 * Throughput: each dataset is mined from scratch by a fresh miner (learning included), as a
 * Durable Object does after a restart. Median of `runs` timings of `passes` passes each.
 */
function measureThroughput(datasets: string[][], runs = 7, passes = 10): number {
  const total = datasets.reduce((n, d) => n + d.length, 0) * passes;
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    let sink = 0;
    for (let pass = 0; pass < passes; pass++) {
      for (const lines of datasets) {
        const miner = new PatternMiner();
        for (const line of lines) sink += miner.add(line).id.length;
      }
    }
    const ms = performance.now() - start;
    if (sink === 0) throw new Error("unreachable");
    rates.push((total / ms) * 1000);
  }
  rates.sort((a, b) => a - b);
  return Math.round(rates[Math.floor(rates.length / 2)]);
}

/** Deterministic word from a number: letters only, so the miner doesn't mask it. */
function word(n: number): string {
  let s = "";
  do {
    s += String.fromCharCode(97 + (n % 26));
    n = Math.floor(n / 26);
  } while (n > 0);
  return s;
}

/**
 * Message `variant` of family `family`. A family is one event shape whose words (letters only,
 * so never masked) differ from every other family in most positions, so families never merge;
 * the numbers vary per variant.
 */
function syntheticMessage(family: number, variant: number): string {
  const [a, b, c] = [word(family * 3 + 7), word(family * 5 + 11), word(family * 7 + 13)];
  switch (family % 4) {
    case 0:
      return `${a} ${b} job ${variant} on ${c} ${variant % 97}`;
    case 1:
      return `${a} request ${variant} ${b} took ${variant % 1000} ms ${c} status=${200 + (variant % 3)}`;
    case 2:
      return `${a} ${b} miss for key user:${variant} ${c} size ${variant * 7} bytes`;
    default:
      return `${a} from 10.0.${variant % 256}.${(variant >> 8) % 256}:${1024 + variant} ${b} ${c}`;
  }
}

/**
 * Memory under the cap: 1M lines drawn from 100k distinct messages (5,000 families x 20
 * variants, far above the 1,000-pattern cap), heap used after a full GC every 250k lines.
 */
function measureMemory(): BenchResult[] {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const families = 5000;
  const variants = 20;
  const messages: string[] = [];
  for (let f = 0; f < families; f++)
    for (let v = 0; v < variants; v++) messages.push(syntheticMessage(f, f * variants + v));
  const miner = new PatternMiner({ maxPatterns: 1000 });
  const results: BenchResult[] = [];
  let seed = 12345;
  const start = performance.now();
  for (let i = 1; i <= 1_000_000; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; // LCG: deterministic order
    miner.add(messages[seed % messages.length], i);
    if (i % 250_000 === 0) {
      gc();
      const mb = process.memoryUsage().heapUsed / (1024 * 1024);
      results.push({ name: `pattern_miner_heap_used_at_${i / 1000}k`, value: Math.round(mb * 10) / 10, unit: "MB" });
    }
  }
  const ms = performance.now() - start;
  results.push({ name: "pattern_miner_live_patterns", value: miner.size, unit: "patterns" });
  results.push({ name: "pattern_miner_evicted_total", value: miner.evictedTotal, unit: "patterns" });
  results.push({
    name: "pattern_miner_throughput_at_cap",
    value: Math.round((1_000_000 / ms) * 1000),
    unit: "lines/s",
  });
  const first = results[0].value;
  const last = results[3].value;
  results.push({
    name: "pattern_miner_heap_growth_250k_to_1m",
    value: Math.round((last - first) * 10) / 10,
    unit: "MB",
  });
  return results;
}

export async function runPatternMinerBench(): Promise<BenchResult[]> {
  const corpus = throughputCorpus();
  const lines = corpus.datasets.reduce((n, d) => n + d.length, 0);
  const results: BenchResult[] = [
    { name: "pattern_miner_throughput", value: measureThroughput(corpus.datasets), unit: "lines/s" },
    { name: "pattern_miner_throughput_corpus_lines", value: lines, unit: "lines" },
  ];
  results.push(...measureMemory());
  return results;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const results = await runPatternMinerBench();
  for (const r of results) console.log(JSON.stringify(r));
}
