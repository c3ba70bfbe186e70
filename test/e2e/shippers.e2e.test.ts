// Real log shippers from npm, configured with only the endpoint and the key, against the logger
// under `wrangler dev`: each must store 100% of what it sent, with the right service, level,
// message and attributes (issue 13). One dev server for the file.
import { SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { CompressionAlgorithm } from "@opentelemetry/otlp-exporter-base";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import pino from "pino";
import { pinoLoki } from "pino-loki";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import winston from "winston";
import LokiTransport from "winston-loki";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type DevServer, freePort, INGEST_KEY, READ_KEY, spawnGroup, startDevServer, unique } from "./harness.js";

/** syslog-ng is a Debian package (syslog-ng-core + syslog-ng-mod-http, installed by .ci/run): its
 * test is the only one here that depends on what the machine has. */
const HAS_SYSLOG_NG = spawnSync("syslog-ng", ["--version"]).status === 0;

let server: DevServer | undefined;

beforeAll(async () => {
  server = await startDevServer();
}, 180_000);

afterAll(async () => {
  await server?.stop();
}, 30_000);

interface Log {
  level: string;
  message: string;
  service: string;
  timestamp: number;
  request_id?: string;
  trace_id?: string;
  metadata?: Record<string, any>;
}

async function search(service: string): Promise<Log[]> {
  const res = await fetch(`${server!.url}/api/logs/search?service=${service}&order=asc&limit=1000`, {
    headers: { authorization: `Bearer ${READ_KEY}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { logs: Log[] }).logs;
}

/** Rows sorted by their message: entries logged in the same millisecond have no defined order. */
function byMessage<T extends unknown[]>(rows: T[]): T[] {
  return [...rows].sort((a, b) => String(a[2]).localeCompare(String(b[2])));
}

/** Polls until `n` logs of the service are stored (shippers send in the background), then one more read. */
async function waitFor(service: string, n: number): Promise<Log[]> {
  const deadline = Date.now() + 30_000;
  let logs = await search(service);
  while (logs.length < n && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    logs = await search(service);
  }
  return logs;
}

describe("real shippers → the logger", () => {
  it("OpenTelemetry JS OTLP/HTTP protobuf exporter (default settings, also gzip)", async () => {
    for (const compression of [CompressionAlgorithm.NONE, CompressionAlgorithm.GZIP]) {
      const service = unique(`otel-proto-${compression}`);
      const exporter = new OTLPLogExporter({
        url: `${server!.url}/v1/logs`,
        headers: { Authorization: `Bearer ${INGEST_KEY}` },
        compression,
      });
      const results: { code: number; error?: Error }[] = [];
      const exportOriginal = exporter.export.bind(exporter);
      exporter.export = (logs, done) =>
        exportOriginal(logs, (r) => {
          results.push(r);
          done(r);
        });
      const provider = new LoggerProvider({
        resource: resourceFromAttributes({ "service.name": service }),
        processors: [new SimpleLogRecordProcessor({ exporter })],
      });
      const logger = provider.getLogger("shipper-test");
      const levels: [SeverityNumber, string, string][] = [
        [SeverityNumber.DEBUG, "DEBUG", "debug"],
        [SeverityNumber.INFO, "INFO", "info"],
        [SeverityNumber.WARN, "WARN", "warn"],
        [SeverityNumber.ERROR, "ERROR", "error"],
        [SeverityNumber.FATAL, "FATAL", "error"],
      ];
      for (const [i, [severityNumber, severityText]] of levels.entries()) {
        logger.emit({
          severityNumber,
          severityText,
          body: `otel line ${i}`,
          attributes: { n: i, "http.route": "/pay" },
        });
      }
      await provider.forceFlush();
      await provider.shutdown();
      expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0]);
      const logs = await waitFor(service, levels.length);
      expect(
        byMessage(logs.map((l) => [l.service, l.level, l.message, l.metadata?.n, l.metadata?.["http.route"]])),
      ).toEqual(byMessage(levels.map(([, , level], i) => [service, level, `otel line ${i}`, i, "/pay"])));
    }
  });

  it("winston-loki (Snappy protobuf, Basic auth)", async () => {
    const service = unique("winston-loki");
    const transport = new LokiTransport({
      host: server!.url,
      basicAuth: `any-user:${INGEST_KEY}`,
      labels: { app: service },
      batching: false,
      onConnectionError: (err) => {
        throw err;
      },
    });
    const logger = winston.createLogger({ level: "silly", transports: [transport] });
    const sent: [string, string][] = [
      ["error", "error"],
      ["warn", "warn"],
      ["info", "info"],
      ["http", "info"],
      ["verbose", "debug"],
      ["debug", "debug"],
      ["silly", "debug"],
    ];
    for (const [i, [level]] of sent.entries()) logger.log({ level, message: `winston-loki ${i}`, order: String(i) });
    await transport.flush();
    const logs = await waitFor(service, sent.length);
    expect(byMessage(logs.map((l) => [l.service, l.level, l.message]))).toEqual(
      byMessage(sent.map(([, level], i) => [service, level, `winston-loki ${i}`])),
    );
    await transport.close();
  });

  it("pino-loki (JSON push, Basic auth)", async () => {
    const service = unique("pino-loki");
    const stream = pinoLoki({
      host: server!.url,
      basicAuth: { username: "pino", password: INGEST_KEY },
      labels: { service_name: service },
      batching: false,
    });
    const logger = pino({ level: "trace" }, stream);
    logger.trace("pino trace");
    logger.debug("pino debug");
    logger.info({ user: "u-1" }, "pino info");
    logger.warn("pino warn");
    logger.error(new Error("pino boom"), "pino error");
    logger.fatal("pino fatal");
    const logs = await waitFor(service, 6);
    expect(byMessage(logs.map((l) => [l.service, l.level, l.message]))).toEqual(
      byMessage([
        [service, "debug", "pino trace"],
        [service, "debug", "pino debug"],
        [service, "info", "pino info"],
        [service, "warn", "pino warn"],
        [service, "error", "pino error"],
        [service, "error", "pino fatal"],
      ]),
    );
    expect(logs.find((l) => l.message === "pino info")?.metadata?.user).toBe("u-1");
    stream.end();
  });

  it("winston's Http transport, one object per POST and batch: true", async () => {
    const port = Number(new URL(server!.url).port);
    for (const batch of [false, true]) {
      const service = unique(`winston-http-${batch}`);
      const transport = new winston.transports.Http({
        host: "127.0.0.1",
        port,
        path: batch ? "/api/logs/batch" : "/api/logs",
        auth: { bearer: INGEST_KEY },
        batch,
        batchCount: 4,
        batchInterval: 200,
      });
      const logger = winston.createLogger({ level: "silly", defaultMeta: { service }, transports: [transport] });
      const sent: [string, string][] = [
        ["error", "error"],
        ["warn", "warn"],
        ["info", "info"],
        ["http", "info"],
        ["verbose", "debug"],
        ["debug", "debug"],
        ["silly", "debug"],
      ];
      for (const [i, [level]] of sent.entries()) logger.log({ level, message: `winston-http ${i}`, order: i });
      const logs = await waitFor(service, sent.length);
      expect(byMessage(logs.map((l) => [l.service, l.level, l.message, l.metadata?.order]))).toEqual(
        byMessage(sent.map(([, level], i) => [service, level, `winston-http ${i}`, i])),
      );
      logger.close();
    }
  });

  it.skipIf(!HAS_SYSLOG_NG)("syslog-ng http() destination (JSON batches, Basic auth, syslog levels)", async () => {
    const service = unique("syslogng").replace(/[^A-Za-z0-9]/g, "");
    const dir = mkdtempSync(join(tmpdir(), "syslog-ng-e2e-"));
    const port = await freePort();
    writeFileSync(
      join(dir, "syslog-ng.conf"),
      `@version: 3.38
options { time-reopen(1); };
source s_in { network(ip("127.0.0.1") port(${port}) transport("tcp")); };
destination d_edge {
  http(url("${server!.url}/api/logs/batch") method("POST")
       user("syslog-ng") password("${INGEST_KEY}") headers("Content-Type: application/json")
       body-prefix("[") delimiter(",") body-suffix("]") batch-lines(100) batch-timeout(200)
       body("$(format-json level=\${LEVEL} message=\${MESSAGE} service=\${PROGRAM} host=\${HOST} timestamp=\${R_ISODATE})"));
};
log { source(s_in); destination(d_edge); };
`,
    );
    const proc = spawnGroup(
      "syslog-ng",
      [
        "-F",
        "-f",
        join(dir, "syslog-ng.conf"),
        `--persist-file=${join(dir, "p")}`,
        `--pidfile=${join(dir, "pid")}`,
        `--control=${join(dir, "ctl")}`,
      ],
      {},
    );
    try {
      const sent: [number, string, string][] = [
        [0, "emerg", "error"],
        [1, "alert", "error"],
        [2, "crit", "error"],
        [3, "err", "error"],
        [4, "warning", "warn"],
        [5, "notice", "info"],
        [6, "info", "info"],
        [7, "debug", "debug"],
      ];
      const deadline = Date.now() + 15_000;
      let socket: import("node:net").Socket | undefined;
      while (!socket && Date.now() < deadline) {
        socket = await new Promise((ok) => {
          const s = connect(port, "127.0.0.1", () => ok(s));
          s.once("error", () => ok(undefined));
        });
        if (!socket) await new Promise((r) => setTimeout(r, 200));
      }
      expect(socket, proc.stderr()).toBeDefined();
      for (const [severity, name] of sent)
        socket!.write(`<${8 + severity}>Dec  2 12:00:00 host1 ${service}[42]: syslog ${name}\n`);
      socket!.end();
      const logs = await waitFor(service, sent.length);
      expect(byMessage(logs.map((l) => [l.service, l.level, l.message]))).toEqual(
        byMessage(sent.map(([, name, level]) => [service, level, `syslog ${name}`])),
      );
    } finally {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("pino with @opentelemetry/instrumentation-pino inside a span, exported as OTLP JSON", async () => {
    // in its own Node process: the instrumentation patches pino through a require hook that
    // vitest's module loader bypasses (in-process, the exporter received nothing)
    const service = unique("pino-otel");
    const script = fileURLToPath(new URL("../fixtures/pino-otel.cjs", import.meta.url));
    const run = spawnSync(process.execPath, [script, server!.url, INGEST_KEY, service], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const { traceId, results } = JSON.parse(run.stdout) as { traceId: string; results: number[] };
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(results).toEqual([0, 0, 0]); // every export succeeded
    const stored = await waitFor(service, 3);
    expect(byMessage(stored.map((l) => [l.service, l.level, l.message, l.trace_id ?? null]))).toEqual(
      byMessage([
        [service, "warn", "inside a span", traceId],
        [service, "error", "failed inside a span", traceId],
        [service, "info", "outside any span", null],
      ]),
    );
    expect(stored.find((l) => l.message === "inside a span")?.metadata?.cart).toBe(3);
  });
});
