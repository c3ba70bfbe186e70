// `npm run tail -- --service api --level error [--q text] [--url URL] [--token KEY]`: follows the
// logger's live tail (GET /api/tail) in the terminal, one line per log: time, level, service,
// message. After a drop it reconnects with `since=<last cursor>` (exponential backoff), so no log
// is missed or printed twice while the logger still holds it. Notices go to stderr, logs to stdout.
import { parseArgs } from "node:util";
import WebSocket from "ws";

const HELP = `usage: npm run tail -- [options]

  --service a,b     services to follow (default: every service the key may read)
  --level error,warn  levels to show (default: all)
  --q text          only messages containing text (case-insensitive)
  --domain d        only this domain
  --pattern-id id   only logs of this pattern
  --url URL         logger base URL (default http://127.0.0.1:8787, or LOGGER_URL)
  --token KEY       read key (default LOGGER_READ_KEY, else dev-read-key)
  --json            print each log as one JSON line instead
`;

const LEVEL_COLOR: Record<string, string> = {
  error: "\x1b[31m",
  warn: "\x1b[33m",
  info: "\x1b[36m",
  debug: "\x1b[90m",
};
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";
const PING_MS = 20_000;
const MAX_BACKOFF_MS = 30_000;

interface StoredLog {
  id: string;
  timestamp: number;
  level: string;
  service: string;
  domain?: string;
  message: string;
}

type ServerFrame =
  | { type: "logs"; logs: StoredLog[]; cursor?: string }
  | { type: "ready"; cursor?: string }
  | { type: "dropped"; count: number }
  | { type: "sampled"; rate: number }
  | { type: "error"; error: { code: string; message: string } };

function parseCli() {
  const { values } = parseArgs({
    options: {
      service: { type: "string" },
      level: { type: "string" },
      q: { type: "string" },
      domain: { type: "string" },
      "pattern-id": { type: "string" },
      url: { type: "string", default: process.env.LOGGER_URL ?? "http://127.0.0.1:8787" },
      token: { type: "string", default: process.env.LOGGER_READ_KEY ?? "dev-read-key" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  return values;
}

/** Log text must not drive the terminal: control characters (ANSI escapes, newlines) are shown escaped. */
function escapeControl(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: this strips control characters on purpose
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => {
    if (ch === "\n") return "\\n";
    if (ch === "\t") return "  ";
    if (ch === "\r") return "\\r";
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

function formatLog(log: StoredLog, color: boolean): string {
  const time = new Date(log.timestamp).toISOString();
  const level = String(log.level).toUpperCase().padEnd(5);
  const service = escapeControl(String(log.service));
  const message = escapeControl(String(log.message ?? ""));
  if (!color) return `${time} ${level} ${service} ${message}`;
  return `${DIM}${time}${RESET} ${LEVEL_COLOR[log.level] ?? ""}${level}${RESET} ${service} ${message}`;
}

/** One clear line per refusal, saying what to change. */
function refusalMessage(status: number, message: string | undefined, path: string | undefined): string {
  const why = message ? `: ${escapeControl(message)}` : "";
  if (status === 401) return `refused (401 unauthorized)${why}. Pass a read key with --token or LOGGER_READ_KEY.`;
  if (status === 403)
    return `refused (403 forbidden)${why}. The key lacks the read scope or access to this service; use another key or --service.`;
  if (status === 400) return `refused (400 bad request)${why}${path ? ` [${path}]` : ""}. Fix the option and retry.`;
  if (status === 429) return `refused (429 rate limited)${why}; retrying.`;
  return `refused (HTTP ${status})${why}`;
}

function tailUrl(base: string, opts: ReturnType<typeof parseCli>, since: string | undefined): string {
  const url = new URL("/api/tail", base);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const params: [string, string | undefined][] = [
    ["service", opts.service],
    ["level", opts.level],
    ["q", opts.q],
    ["domain", opts.domain],
    ["pattern_id", opts["pattern-id"]],
    ["since", since],
  ];
  for (const [k, v] of params) if (v) url.searchParams.set(k, v);
  return url.toString();
}

function main(): void {
  const opts = parseCli();
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const note = (text: string) => process.stderr.write(`tail: ${text}\n`);
  let cursor: string | undefined;
  let backoffMs = 500;
  let stopping = false;
  let socket: WebSocket | undefined;

  process.stdout.on("error", () => process.exit(0)); // e.g. piped into `head`

  const connect = () => {
    const url = tailUrl(opts.url!, opts, cursor);
    // The key goes in a header, not the URL: only browsers need ?token=.
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${opts.token}` } });
    socket = ws;
    let fatal: { code: string; message: string } | undefined;
    let alive = true;
    let pinger: NodeJS.Timeout | undefined;

    ws.on("open", () => {
      note(`${cursor ? "resumed" : "connected"}: ${url.replace(/^ws/, "http")}`);
      // The server answers the text "ping" with "pong"; no answer for a whole interval = dead link.
      pinger = setInterval(() => {
        if (!alive) return ws.terminate();
        alive = false;
        ws.send("ping");
      }, PING_MS);
    });
    ws.on("message", (data) => {
      alive = true;
      const text = data.toString();
      if (text === "pong") return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(text) as ServerFrame;
      } catch {
        return;
      }
      if (frame.type === "logs") {
        backoffMs = 500;
        if (frame.cursor) cursor = frame.cursor;
        for (const log of frame.logs)
          process.stdout.write(`${opts.json ? JSON.stringify(log) : formatLog(log, color)}\n`);
      } else if (frame.type === "ready") {
        if (frame.cursor) cursor = frame.cursor;
      } else if (frame.type === "dropped") {
        note(`${frame.count} logs dropped: this client fell behind the live stream`);
      } else if (frame.type === "sampled") {
        note(
          frame.rate < 1
            ? `sampling: showing about ${Math.round(frame.rate * 100)}% of matching logs (they arrive faster than this tail may receive; narrow the filter to see all)`
            : "sampling off: showing every matching log again",
        );
      } else if (frame.type === "error") {
        fatal = frame.error;
        note(`error ${frame.error.code}: ${frame.error.message}`);
      }
    });
    ws.on("unexpected-response", (_req, res) => {
      // The logger refuses a tail before the upgrade: HTTP status + JSON error body.
      const status = res.statusCode ?? 0;
      let body = "";
      res.on("data", (chunk: Buffer) => {
        if (body.length < 4096) body += chunk.toString();
      });
      res.on("end", () => {
        let error: { code?: string; message?: string; details?: { path?: string }[] } = {};
        try {
          error = (JSON.parse(body) as { error?: typeof error }).error ?? {};
        } catch {
          // not our JSON: the status says enough
        }
        fatal = { code: error.code ?? `http_${status}`, message: error.message ?? `HTTP ${status}` };
        note(refusalMessage(status, error.message, error.details?.[0]?.path));
        ws.terminate();
      });
    });
    ws.on("error", (err) => {
      if (!fatal) note(`connection error: ${err.message}`);
    });
    ws.on("close", (code) => {
      clearInterval(pinger);
      if (stopping) return;
      // Bad key or bad filter won't fix themselves; a server fault or a lost link may.
      const permanent =
        fatal &&
        [
          "unauthorized",
          "forbidden",
          "invalid_request",
          "not_found",
          "http_401",
          "http_403",
          "http_400",
          "http_404",
        ].includes(fatal.code);
      if (permanent) {
        process.exitCode = 1;
        return;
      }
      const wait = backoffMs;
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      note(
        `disconnected (${code}); reconnecting in ${(wait / 1000).toFixed(1)} s${cursor ? " from the last cursor" : ""}`,
      );
      setTimeout(connect, wait);
    });
  };

  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      stopping = true;
      socket?.close(1000, "bye");
      setTimeout(() => process.exit(0), 200).unref();
    });
  }
  connect();
}

main();
