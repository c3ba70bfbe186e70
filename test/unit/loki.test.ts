import { describe, expect, it } from "vitest";
import { decodePushRequest, jsonPushRequest, levelInLine, mapLokiStreams, parseLabels } from "../../src/core/loki.js";
import { ProtoWriter } from "../../src/core/protobuf.js";

describe("Loki push mapping", () => {
  it("parses Prometheus label sets with escapes", () => {
    expect(parseLabels('{app="web", env="prod",msg="say \\"hi\\"\\n"}')).toEqual({
      app: "web",
      env: "prod",
      msg: 'say "hi"\n',
    });
    expect(parseLabels("{}")).toEqual({});
    expect(() => parseLabels("app=web")).toThrow();
    expect(() => parseLabels('{app="web}')).toThrow();
  });

  it("decodes a protobuf PushRequest with timestamps and structured metadata", () => {
    const buf = new ProtoWriter()
      .message(1, (s) =>
        s.string(1, '{job="api", level="warning", region="eu"}').message(2, (e) =>
          e
            .message(1, (t) => t.varint(1, 1_790_000_000).varint(2, 123_000_000))
            .string(2, "slow request")
            .message(3, (p) => p.string(1, "trace_id").string(2, "4bf92f3577b34da6a3ce929d0e0e4736")),
        ),
      )
      .finish();
    const streams = decodePushRequest(buf);
    expect(streams).toEqual([
      {
        labels: { job: "api", level: "warning", region: "eu" },
        entries: [
          {
            ns: "1790000000123000000",
            line: "slow request",
            structured: { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" },
          },
        ],
      },
    ]);
    const { entries, rejected } = mapLokiStreams(streams);
    expect(rejected).toEqual([]);
    expect(entries[0].entry).toMatchObject({
      service: "api",
      level: "warn",
      severity: "warning",
      message: "slow request",
      timestamp: 1_790_000_000_123,
      trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      metadata: { region: "eu" },
      id: expect.stringMatching(/^loki_/),
    });
  });

  it("takes the service from service_name, service, app, job in that order, else unknown_service", () => {
    const svc = (labels: Record<string, string>) =>
      mapLokiStreams([{ labels, entries: [{ ns: "1790000000000000000", line: "x", structured: {} }] }]).entries[0].entry
        .service;
    expect(svc({ job: "j", app: "a", service: "s", service_name: "sn" })).toBe("sn");
    expect(svc({ job: "j", app: "a" })).toBe("a");
    expect(svc({ job: "varlogs/app" })).toBe("varlogs_app");
    expect(svc({})).toBe("unknown_service");
  });

  it("finds the level in the line: JSON, logfmt, or a level word; else info", () => {
    expect(levelInLine('{"level":50,"msg":"x"}')?.level).toBe("error");
    expect(levelInLine("ts=1 level=warn msg=x")?.level).toBe("warn");
    expect(levelInLine("2026-12-02 12:00:00 [ERROR] boom")?.level).toBe("error");
    expect(levelInLine("all fine here")).toBeUndefined();
    const e = mapLokiStreams(
      jsonPushRequest({
        streams: [{ stream: { app: "w" }, values: [["1790000000000000000", "ts=1 level=notice msg=x"]] }],
      }) as never,
    ).entries[0].entry;
    expect([e.level, e.severity]).toEqual(["info", "notice"]);
  });

  it("refuses entries without a usable timestamp, naming their path", () => {
    const streams = jsonPushRequest({
      streams: [{ stream: { app: "w" }, values: [["abc", "x"], ["1790000000000000000", "ok"], "not an array"] }],
    });
    const m = mapLokiStreams(streams as never);
    expect(m.entries.map((e) => e.path)).toEqual(["streams.0.values.1"]);
    expect(m.rejected.map((r) => r.path)).toEqual(["streams.0.values.0", "streams.0.values.2"]);
    expect(jsonPushRequest({ nope: 1 })).toMatch(/streams/);
  });

  it("gives the same id to the same line at the same time (a retried push stores nothing twice)", () => {
    const s = { labels: { app: "w" }, entries: [{ ns: "1790000000000000001", line: "x", structured: {} }] };
    expect(mapLokiStreams([s]).entries[0].entry.id).toBe(mapLokiStreams([s]).entries[0].entry.id);
  });

  it("splits winston-loki's `message {meta}` lines and JSON lines into message and fields", () => {
    const map = (line: string) =>
      mapLokiStreams([
        { labels: { app: "w", level: "info" }, entries: [{ ns: "1790000000000000000", line, structured: {} }] },
      ]).entries[0].entry;
    expect(map('order placed {"level":"info","order":"7"}')).toMatchObject({ message: "order placed", order: "7" });
    expect(map('{"msg":"hi","user":"u"}')).toMatchObject({ message: "hi", user: "u" });
    expect(map("no json {here")).toMatchObject({ message: "no json {here" });
  });
});
