// `npm run eval:patterns -- [dir] [--cv] [--verbose] [--check]`: Grouping Accuracy (GA) and
// Parsing Accuracy (PA) of the pattern miner on the Loghub-2k datasets in `dir` (default
// ../shared/data/loghub-2k next to the repo or its worktree folder). Only `log_format` is read
// from format.json, to cut the header off each line. Scores use the original 2019 ground truth
// (most published figures do); GA on the corrected truth is printed next to it.
//
//  * plain: one configuration (the defaults) for every dataset, one row per dataset.
//  * --cv: leave-one-dataset-out. For each dataset, the miner's two parameters (similarity
//    threshold, variable cardinality) are chosen on the seven others (best mean GA, ties to
//    the default) and the held-out dataset is scored with that choice. This measures how the
//    miner does on a log family nobody tuned it for, which is what users' logs are.
//  * --check (CI): fails unless the mean GA is >= 0.95 and no dataset/fold is below 0.85.
//
// GA (Zhu et al. 2019): a line is right iff its predicted group is exactly its true group.
// PA (Dai et al., Loghub-2.0): a line is right iff its template equals the true template,
// after both are normalised (whitespace collapsed, a run of `<*>` tokens as one `<*>`).
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PatternMiner, SIMILARITY_THRESHOLD, VARIABLE_CARDINALITY } from "../src/core/pattern-miner.js";
import { type Dataset, groupingAccuracy, listDatasets, loadDataset, mineAll, parsingAccuracy } from "./loghub.js";

const args = process.argv.slice(2);
const verbose = args.includes("--verbose");
const check = args.includes("--check");
const cv = args.includes("--cv");
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const defaultDir = [join(repo, "../shared/data/loghub-2k"), join(repo, "../../shared/data/loghub-2k")].find((d) =>
  existsSync(d),
);
const dir = resolve(args.find((a) => !a.startsWith("--")) ?? defaultDir ?? join(repo, "../shared/data/loghub-2k"));

const names = listDatasets(dir);
if (names.length === 0) {
  console.log(`no Loghub-2k datasets found in ${dir}`);
  process.exit(0);
}
const datasets = names.map((name) => loadDataset(dir, name));

interface Params {
  similarityThreshold: number;
  variableCardinality: number;
}
interface Score {
  ga: number;
  gaCorrected: number;
  pa: number;
  predictedGroups: number;
}

const DEFAULTS: Params = { similarityThreshold: SIMILARITY_THRESHOLD, variableCardinality: VARIABLE_CARDINALITY };

function score(data: Dataset, params: Params, explainIt = false): Score {
  const parsed = mineAll(data.contents, new PatternMiner(params));
  const predicted = parsed.map((p) => p.pattern);
  if (explainIt) explain(data.name, data.contents, parsed, data.truthOriginal);
  return {
    ga: groupingAccuracy(predicted, data.truthOriginal),
    gaCorrected: groupingAccuracy(predicted, data.truthCorrected),
    pa: parsingAccuracy(
      parsed.map((p) => p.template),
      data.truthOriginal,
    ),
    predictedGroups: new Set(predicted).size,
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
let gas: number[];

if (!cv) {
  const rows: string[][] = [["dataset", "GA original", "GA corrected", "PA", "groups (pred/truth)"]];
  const scores = datasets.map((d) => score(d, DEFAULTS, verbose));
  scores.forEach((s, i) => {
    const truthGroups = new Set(datasets[i].truthOriginal).size;
    rows.push([
      names[i],
      s.ga.toFixed(3),
      s.gaCorrected.toFixed(3),
      s.pa.toFixed(3),
      `${s.predictedGroups}/${truthGroups}`,
    ]);
  });
  gas = scores.map((s) => s.ga);
  rows.push([
    "average",
    mean(gas).toFixed(3),
    mean(scores.map((s) => s.gaCorrected)).toFixed(3),
    mean(scores.map((s) => s.pa)).toFixed(3),
    "",
  ]);
  printTable(rows);
} else {
  // Every dataset scored once per grid point; a fold then only picks from the table.
  const grid: Params[] = [DEFAULTS];
  for (const similarityThreshold of [0.4, 0.5, 0.6, 0.7, 0.8]) {
    for (const variableCardinality of [2, 3, 4, 5, 6]) {
      const p = { similarityThreshold, variableCardinality };
      if (
        p.similarityThreshold !== DEFAULTS.similarityThreshold ||
        p.variableCardinality !== DEFAULTS.variableCardinality
      )
        grid.push(p);
    }
  }
  const table = grid.map((p) => datasets.map((d) => score(d, p)));
  const rows: string[][] = [["held out", "chosen on the other 7", "GA on the 7", "GA held out", "PA held out"]];
  gas = [];
  const pas: number[] = [];
  for (let fold = 0; fold < datasets.length; fold++) {
    let best = 0;
    let bestTrain = -1;
    grid.forEach((_, g) => {
      const train = mean(table[g].filter((_, d) => d !== fold).map((s) => s.ga));
      if (train > bestTrain + 1e-12) {
        best = g;
        bestTrain = train;
      }
    });
    const held = table[best][fold];
    gas.push(held.ga);
    pas.push(held.pa);
    const p = grid[best];
    rows.push([
      names[fold],
      `threshold ${p.similarityThreshold}, cardinality ${p.variableCardinality}`,
      bestTrain.toFixed(3),
      held.ga.toFixed(3),
      held.pa.toFixed(3),
    ]);
  }
  rows.push(["mean", "", "", mean(gas).toFixed(3), mean(pas).toFixed(3)]);
  printTable(rows);
  console.log(`lowest fold GA ${Math.min(...gas).toFixed(3)}; grid: threshold 0.4-0.8 x cardinality 2-6`);
}

if (check) {
  const average = mean(gas);
  const worst = Math.min(...gas);
  if (average < 0.95 || worst < 0.85) {
    console.error(`FAIL: mean GA ${average.toFixed(3)} (needs >= 0.95), lowest ${worst.toFixed(3)} (needs >= 0.85)`);
    process.exit(1);
  }
}

function printTable(table: string[][]): void {
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`;
  console.log(line(table[0]));
  console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
  for (const r of table.slice(1)) console.log(line(r));
}

/** Lists the wrongly grouped truth events: which predicted groups they spread over or share. */
function explain(
  name: string,
  contents: string[],
  parsed: Array<{ pattern: string; template: string }>,
  truth: string[],
): void {
  const byTruth = new Map<string, Map<string, number[]>>();
  const predTruths = new Map<string, Set<string>>();
  parsed.forEach((p, i) => {
    let m = byTruth.get(truth[i]);
    if (!m) byTruth.set(truth[i], (m = new Map()));
    let lines = m.get(p.pattern);
    if (!lines) m.set(p.pattern, (lines = []));
    lines.push(i);
    let s = predTruths.get(p.pattern);
    if (!s) predTruths.set(p.pattern, (s = new Set()));
    s.add(truth[i]);
  });
  console.log(`\n## ${name}`);
  const bad = [...byTruth].filter(([, m]) => m.size > 1 || [...m.keys()].some((p) => predTruths.get(p)!.size > 1));
  bad.sort((a, b) => count(b[1]) - count(a[1]));
  for (const [t, m] of bad) {
    console.log(`TRUTH (${count(m)}) ${t}`);
    for (const [p, lines] of m) {
      const others = predTruths.get(p)!.size - 1;
      console.log(
        `   ${p} n=${lines.length}${others ? ` +${others} other events` : ""} :: ${parsed[lines[0]].template}`,
      );
      console.log(`      e.g. ${contents[lines[0]].slice(0, 160)}`);
    }
  }
}

function count(m: Map<string, number[]>): number {
  let n = 0;
  for (const l of m.values()) n += l.length;
  return n;
}
