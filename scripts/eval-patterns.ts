// `npm run eval:patterns -- [dir] [--verbose] [--check]`: Grouping Accuracy of the pattern miner on the
// Loghub-2k datasets in `dir` (default ../shared/data/loghub-2k next to the repo). One miner
// configuration (the defaults) for every dataset; only `log_format` is read from format.json,
// to cut the header off each line. GA on the original 2019 ground truth comes first.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PatternMiner } from "../src/core/pattern-miner.js";
import { groupingAccuracy, listDatasets, loadDataset, mineAll } from "./loghub.js";

const args = process.argv.slice(2);
const verbose = args.includes("--verbose");
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dir = resolve(args.find((a) => !a.startsWith("--")) ?? join(repo, "../shared/data/loghub-2k"));

const names = listDatasets(dir);
if (names.length === 0) {
  console.log(`no Loghub-2k datasets found in ${dir}`);
  process.exit(0);
}

const rows: string[][] = [["dataset", "GA original", "GA corrected", "groups (pred/truth)"]];
let sumOriginal = 0;
let sumCorrected = 0;
for (const name of names) {
  const data = loadDataset(dir, name);
  const parsed = mineAll(data.contents, new PatternMiner());
  const predicted = parsed.map((p) => p.pattern);
  const gaOriginal = groupingAccuracy(predicted, data.truthOriginal);
  const gaCorrected = groupingAccuracy(predicted, data.truthCorrected);
  sumOriginal += gaOriginal;
  sumCorrected += gaCorrected;
  const groups = `${new Set(predicted).size}/${new Set(data.truthOriginal).size}`;
  rows.push([name, gaOriginal.toFixed(3), gaCorrected.toFixed(3), groups]);
  if (verbose) explain(name, data.contents, parsed, data.truthOriginal);
}
rows.push(["average", (sumOriginal / names.length).toFixed(3), (sumCorrected / names.length).toFixed(3), ""]);
printTable(rows);

// --check (CI): the issue's bar on the original ground truth, average >= 0.95, none below 0.85.
if (args.includes("--check")) {
  const average = sumOriginal / names.length;
  const worst = Math.min(...rows.slice(1, -1).map((r) => Number(r[1])));
  if (average < 0.95 || worst < 0.85) {
    console.error(`FAIL: average GA ${average.toFixed(3)} (needs >= 0.95), lowest ${worst.toFixed(3)} (needs >= 0.85)`);
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
