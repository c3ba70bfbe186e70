// POST /loki/api/v1/push as Loki clients send it: protobuf + Snappy (Promtail, winston-loki),
// JSON (pino-loki), gzip, HTTP Basic auth; 204 like Loki; refusals visible.
import snappy from "snappyjs";
import { describe, expect, it } from "vitest";
import { ProtoWriter } from "../../src/core/protobuf.js";
import { call, getJson, KEYS, uniqueService } from "./helpers.js";

const basic = (key: string) => `Basic ${btoa(`loki-user:${key}`)}`;
const nowNs = (offsetMs = 0) => `${BigInt(Date.now() + offsetMs) * 1_000_000n}`;

async function push(body: BodyInit, contentType: string, headers: Record<string, string> = {}) {
  return call("/loki/api/v1/push", {
    method: "POST",
    headers: { authorization: basic(KEYS.ingest), "content-type": contentType, ...headers },
    body,
  });
}

const search = async (service: string) =>
  (await getJson<{ logs: any[] }>(`/api/logs/search?service=${service}&order=asc`)).body.logs;

describe("POST /loki/api/v1/push", () => {
  it("stores a Snappy protobuf push with labels, level and structured metadata, answering 204", async () => {
    const service = uniqueService("loki-pb");
    const ms = Date.now() - 1000;
    const pb = new ProtoWriter()
      .message(1, (s) =>
        s.string(1, `{service_name="${service}", level="warning", env="prod"}`).message(2, (e) =>
          e
            .message(1, (t) => t.varint(1, Math.floor(ms / 1000)).varint(2, (ms % 1000) * 1_000_000))
            .string(2, "disk 91% full")
            .message(3, (p) => p.string(1, "host").string(2, "web-1")),
        ),
      )
      .finish();
    const res = await push(snappy.compress(pb) as Uint8Array<ArrayBuffer>, "application/x-protobuf");
    expect(res.status).toBe(204);
    const logs = await search(service);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      service,
      level: "warn",
      message: "disk 91% full",
      timestamp: ms,
      metadata: { env: "prod", host: "web-1" },
    });
  });

  it("stores a JSON push (also gzip) with the level found in the line, idempotently on retry", async () => {
    const service = uniqueService("loki-json");
    const body = JSON.stringify({
      streams: [
        {
          stream: { app: service, host: "h1" },
          values: [
            [nowNs(-2), '{"level":50,"msg":"boom"}'],
            [nowNs(-1), "level=debug msg=tick"],
          ],
        },
      ],
    });
    expect((await push(body, "application/json")).status).toBe(204);
    const gz = new Uint8Array(
      await new Response(new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
    );
    expect((await push(gz, "application/json", { "content-encoding": "gzip" })).status).toBe(204);
    const logs = await search(service);
    expect(logs.map((l) => [l.level, l.message])).toEqual([
      ["error", "boom"],
      ["debug", "level=debug msg=tick"],
    ]);
    expect(logs[0].metadata).toEqual({ host: "h1" });
  });

  it("counts refused entries and answers 400 when nothing could be stored", async () => {
    const service = uniqueService("loki-bad");
    const res = await push(
      JSON.stringify({
        streams: [
          {
            stream: { job: service },
            values: [
              ["yesterday", "x"],
              [nowNs(), ""],
            ],
          },
        ],
      }),
      "application/json",
    );
    expect(res.status).toBe(400);
    const rej = await getJson<{ services: { service: string; counts: Record<string, number> }[] }>(
      `/api/admin/rejected?service=${service}`,
      KEYS.admin,
    );
    expect(rej.body.services[0].counts).toEqual({ loki_entry: 1, message: 1 });
  });

  it("answers 400 for a body that is not Snappy, 401 without a key, 415 for text", async () => {
    expect((await push(new Uint8Array([1, 2, 3, 4]), "application/x-protobuf")).status).toBe(400);
    const noKey = await call("/loki/api/v1/push", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(noKey.status).toBe(401);
    expect((await push("x", "text/plain")).status).toBe(415);
  });
});
