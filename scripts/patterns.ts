// `npm run --silent patterns -- [--format '<log_format>'] [file.log]`
// Mines a log file online with the default PatternMiner and prints one JSON line per input
// line, in order: {"line": n, "pattern": "<surviving id>", "template": "<final template>"}.
// With --format (Loghub syntax, e.g. '<Date> <Time> <Level> <Component>: <Content>') only
// <Content> is mined; a line the format doesn't match is mined whole (trimmed). Without a
// file, reads stdin. Ids are resolved after the whole input is read, so lines whose pattern
// was merged into another print the surviving id.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { PatternMiner } from "../src/core/pattern-miner.js";
import { extractContent, formatToRegex } from "./loghub.js";

function usage(message: string): never {
  console.error(`${message}\nusage: npm run --silent patterns -- [--format '<log_format>'] [file.log]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let format: string | undefined;
let file: string | undefined;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--format") {
    format = args[++i];
    if (format === undefined) usage("--format needs a value");
  } else if (a.startsWith("--format=")) format = a.slice("--format=".length);
  else if (a === "-h" || a === "--help") usage("Mines log templates.");
  else if (a.startsWith("--")) usage(`unknown option ${a}`);
  else if (file === undefined) file = a;
  else usage(`unexpected argument ${a}`);
}

const headerRegex = format === undefined ? undefined : formatToRegex(format);
const miner = new PatternMiner();
const ids: string[] = [];
/** Template each id last had: the fallback for a pattern evicted before the end. */
const lastTemplate = new Map<string, string>();
const input: NodeJS.ReadableStream = file === undefined || file === "-" ? process.stdin : createReadStream(file);
input.on("error", (err: Error) => usage(`cannot read ${file}: ${err.message}`));
const lines = createInterface({ input, crlfDelay: Infinity });
for await (const line of lines) {
  const { id, template } = miner.add(extractContent(line, headerRegex));
  ids.push(id);
  lastTemplate.set(id, template);
}

process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});
const templates = new Map<string, string>();
let chunk = "";
for (let i = 0; i < ids.length; i++) {
  const pattern = miner.resolve(ids[i]);
  let template = templates.get(pattern);
  if (template === undefined) {
    template = miner.get(pattern)?.template ?? lastTemplate.get(pattern) ?? lastTemplate.get(ids[i]) ?? "";
    templates.set(pattern, template);
  }
  chunk += `${JSON.stringify({ line: i + 1, pattern, template })}\n`;
  if (chunk.length > 1 << 16) {
    if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once("drain", r));
    chunk = "";
  }
}
process.stdout.write(chunk);
