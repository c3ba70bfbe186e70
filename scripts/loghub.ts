// Shared helpers for scripts/patterns.ts and scripts/eval-patterns.ts (and the bench):
// Loghub header formats, RFC 4180 CSV, dataset loading and Grouping Accuracy.
// Node-only plumbing; the miner itself lives in src/core/pattern-miner.ts.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { PatternMiner } from "../src/core/pattern-miner.js";

/**
 * Turns a Loghub `log_format` (e.g. `<Date> <Time> <Level> <Component>: <Content>`) into the
 * benchmark's regex: each `<Name>` becomes `(?<Name>.*?)`, a run of spaces matches `\s+`,
 * everything else is literal regex text, anchored `^…$`.
 */
export function formatToRegex(format: string): RegExp {
  let source = "";
  const field = /<([A-Za-z_][A-Za-z0-9_]*)>/g;
  let last = 0;
  for (let m = field.exec(format); m !== null; m = field.exec(format)) {
    source += format.slice(last, m.index).replace(/ +/g, "\\s+");
    source += `(?<${m[1]}>.*?)`;
    last = m.index + m[0].length;
  }
  source += format.slice(last).replace(/ +/g, "\\s+");
  return new RegExp(`^${source}$`);
}

/** `<Content>` of a raw line; a line the header regex doesn't match yields the whole trimmed line. */
export function extractContent(line: string, format: RegExp | undefined): string {
  const trimmed = line.trim();
  if (!format) return trimmed;
  const content = format.exec(trimmed)?.groups?.Content;
  return content ?? trimmed;
}

/** Splits raw file text into lines (LF or CRLF), dropping the one empty tail after a final newline. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** RFC 4180 CSV: quoted fields may hold commas, newlines and `""`. Returns rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += c;
      i++;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
    i++;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Ground-truth event key per line (keyed by EventTemplate, as the Loghub-2.0 evaluator does). */
export function readTruth(csvPath: string): string[] {
  const rows = parseCsv(readFileSync(csvPath, "utf8"));
  const header = rows[0];
  const col = header.indexOf("EventTemplate");
  if (col < 0) throw new Error(`${csvPath}: no EventTemplate column`);
  return rows.slice(1).map((r) => r[col]);
}

export interface Dataset {
  name: string;
  logFormat: string;
  contents: string[];
  truthOriginal: string[];
  truthCorrected: string[];
}

/** Dataset folders under `dir` that hold `<D>_2k.log`, both CSVs and `format.json`; others are skipped. */
export function listDatasets(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => {
      const d = join(dir, name);
      if (!statSync(d).isDirectory()) return false;
      return ["_2k.log", "_2k.log_structured.csv", "_2k.log_structured_original.csv"]
        .map((suffix) => join(d, name + suffix))
        .concat(join(d, "format.json"))
        .every((f) => existsSync(f));
    })
    .sort();
}

export function loadDataset(dir: string, name: string): Dataset {
  const d = join(dir, name);
  const format = JSON.parse(readFileSync(join(d, "format.json"), "utf8")) as { log_format: string };
  const re = formatToRegex(format.log_format);
  const lines = splitLines(readFileSync(join(d, `${name}_2k.log`), "utf8"));
  return {
    name,
    logFormat: format.log_format,
    contents: lines.map((l) => extractContent(l, re)),
    truthOriginal: readTruth(join(d, `${name}_2k.log_structured_original.csv`)),
    truthCorrected: readTruth(join(d, `${name}_2k.log_structured.csv`)),
  };
}

/**
 * Grouping Accuracy (Zhu et al. 2019): a line is correct iff its predicted group equals its
 * ground-truth group as a set of lines. Returns correct / total.
 */
export function groupingAccuracy(predicted: readonly string[], truth: readonly string[]): number {
  if (predicted.length !== truth.length) throw new Error(`length mismatch: ${predicted.length} vs ${truth.length}`);
  // A predicted group is correct iff all its lines share one truth key and that truth
  // group has no lines elsewhere, i.e. |pred group| == |truth group| == |intersection|.
  const predSize = new Map<string, number>();
  const truthSize = new Map<string, number>();
  const pairSize = new Map<string, number>();
  for (let i = 0; i < predicted.length; i++) {
    predSize.set(predicted[i], (predSize.get(predicted[i]) ?? 0) + 1);
    truthSize.set(truth[i], (truthSize.get(truth[i]) ?? 0) + 1);
    const k = `${predicted[i]}\u0000${truth[i]}`;
    pairSize.set(k, (pairSize.get(k) ?? 0) + 1);
  }
  let correct = 0;
  for (const [k, n] of pairSize) {
    const [p, t] = k.split("\u0000");
    if (predSize.get(p) === n && truthSize.get(t) === n) correct += n;
  }
  return predicted.length === 0 ? 1 : correct / predicted.length;
}

/**
 * Parsing Accuracy (Loghub-2.0): share of lines whose predicted template equals the true one,
 * both normalised by normaliseTemplate().
 */
export function parsingAccuracy(predicted: readonly string[], truth: readonly string[]): number {
  if (predicted.length !== truth.length) throw new Error(`length mismatch: ${predicted.length} vs ${truth.length}`);
  const cache = new Map<string, string>();
  const norm = (t: string) => {
    let n = cache.get(t);
    if (n === undefined) cache.set(t, (n = normaliseTemplate(t)));
    return n;
  };
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (norm(predicted[i]) === norm(truth[i])) correct++;
  return predicted.length === 0 ? 1 : correct / predicted.length;
}

/** Whitespace collapsed and a run of `<*>` tokens written as one `<*>`. */
export function normaliseTemplate(template: string): string {
  const out: string[] = [];
  for (const t of template.trim().split(/\s+/)) {
    if (t === "<*>" && out[out.length - 1] === "<*>") continue;
    if (t !== "") out.push(t);
  }
  return out.join(" ");
}

export function countDistinct(values: readonly string[]): number {
  return new Set(values).size;
}

/**
 * Mines the contents in order (online, one add() per line) and returns, per line, the id it
 * got resolved to the surviving pattern after the whole input, and that pattern's template.
 */
export function mineAll(
  contents: readonly string[],
  miner: PatternMiner,
): Array<{ pattern: string; template: string }> {
  const ids = contents.map((c) => miner.add(c).id);
  return ids.map((id) => {
    const pattern = miner.resolve(id);
    return { pattern, template: miner.get(pattern)?.template ?? "" };
  });
}
