// Redaction through the HTTP API (default REDACT = email,card,secret,url_password): secrets sent
// to POST /api/logs/batch and POST /v1/logs come back redacted from GET /api/logs/:id, search,
// the live tail and the pattern list, because redaction runs before the aggregator sees them.
import { describe, expect, it } from "vitest";
import { call, getJson, ingest, KEYS, uniqueService } from "./helpers.js";

const SECRETS = [
  "alice@example.com",
  "4111 1111 1111 1111",
  "4111111111111111",
  "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl",
  "sk_live_51HxyzABCDEFGH1234567",
  "AKIAIOSFODNN7EXAMPLE",
  "hunter2",
  "s3cr3t-pw",
  "dXNlcjpwYXNz",
];

function leakedIn(value: unknown): string[] {
  const text = JSON.stringify(value);
  return SECRETS.filter((s) => text.includes(s));
}

function entries(service: string) {
  return [
    {
      id: `${service}-1`,
      level: "error",
      message: "charge failed for alice@example.com with card 4111 1111 1111 1111",
      service,
      user_id: "alice@example.com",
      stack_trace:
        "Error: upstream said Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl",
      context: {
        url: "https://admin:s3cr3t-pw@pay.example.com/charge?api_key=sk_live_51HxyzABCDEFGH1234567",
        method: "POST",
        ip: "203.0.113.9",
      },
      metadata: {
        headers: { authorization: "Basic dXNlcjpwYXNz" },
        password: "hunter2",
        aws: "AKIAIOSFODNN7EXAMPLE",
        card: 4111111111111111,
        order: 1234,
      },
    },
    { id: `${service}-2`, level: "warn", message: "login password=hunter2 for alice@example.com", service },
  ];
}

const EXPECTED_1 = {
  message: "charge failed for [email] with card [card]",
  user_id: "[email]",
  stack_trace: "Error: upstream said Authorization: Bearer [secret]",
  context: { url: "https://admin:[secret]@pay.example.com/charge?api_key=[secret]", method: "POST", ip: "203.0.113.9" },
  metadata: {
    headers: { authorization: "[secret]" },
    password: "[secret]",
    aws: "[secret]",
    card: "[card]",
    order: 1234,
  },
};

describe("redaction before storage and tail", () => {
  it("stores only redacted text: GET by id and search", async () => {
    const service = uniqueService("redact");
    const { status, body } = await ingest(entries(service));
    expect(status).toBe(202);
    expect(body.accepted).toBe(2);

    const one = await getJson(`/api/logs/${service}-1`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject(EXPECTED_1);
    expect(one.body).not.toHaveProperty("redacted"); // no flag says a secret was there
    const two = await getJson(`/api/logs/${service}-2`);
    expect(two.body.message).toBe("login password=[secret] for [email]");

    const search = await getJson(`/api/logs/search?service=${service}&order=asc`);
    expect(search.body.logs.map((l: { id: string }) => l.id)).toEqual([`${service}-1`, `${service}-2`]);
    expect(leakedIn(search.body)).toEqual([]);
    expect(leakedIn(one.body)).toEqual([]);
    // the original text can't be searched for; the marker can
    expect((await getJson(`/api/logs/search?service=${service}&q=alice`)).body.logs).toEqual([]);
    expect(
      (await getJson(`/api/logs/search?service=${service}&q=${encodeURIComponent("[email]")}`)).body.logs,
    ).toHaveLength(2);
  });

  it("delivers only redacted text to live tail subscribers", async () => {
    const service = uniqueService("redact-tail");
    const res = await call(`/api/tail?service=${service}`, { key: KEYS.read, headers: { upgrade: "websocket" } });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    const frames: { type: string; logs?: Record<string, unknown>[] }[] = [];
    ws.addEventListener("message", (e) => {
      if (typeof e.data === "string" && e.data !== "pong") frames.push(JSON.parse(e.data));
    });
    ws.accept();
    await ingest(entries(service));
    const deadline = Date.now() + 3000;
    const logs = () => frames.flatMap((f) => f.logs ?? []);
    while (logs().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(logs().map((l) => l.id)).toEqual([`${service}-1`, `${service}-2`]);
    expect(logs()[0]).toMatchObject(EXPECTED_1);
    expect(leakedIn(frames)).toEqual([]);
    ws.close(1000, "done");
  });

  it("mines patterns from redacted text", async () => {
    const service = uniqueService("redact-pat");
    await ingest(entries(service));
    const { status, body } = await getJson(`/api/logs/analytics/patterns?service=${service}`);
    expect(status).toBe(200);
    expect(body.patterns.length).toBeGreaterThan(0);
    expect(leakedIn(body)).toEqual([]);
  });

  it("redacts OTLP records too (they go through the same ingest path)", async () => {
    const service = uniqueService("redact-otlp");
    const str = (stringValue: string) => ({ stringValue });
    const res = await call("/v1/logs", {
      method: "POST",
      key: KEYS.ingest,
      json: {
        resourceLogs: [
          {
            resource: { attributes: [{ key: "service.name", value: str(service) }] },
            scopeLogs: [
              {
                logRecords: [
                  {
                    timeUnixNano: "1790000000123456789",
                    severityText: "ERROR",
                    body: str("refund to alice@example.com card 4111111111111111"),
                    attributes: [{ key: "db.password", value: str("hunter2") }],
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    expect(res.status).toBe(200);
    const logs = (await getJson(`/api/logs/search?service=${service}`)).body.logs;
    expect(logs).toHaveLength(1);
    expect(logs[0].message).toBe("refund to [email] card [card]");
    expect(leakedIn(logs)).toEqual([]);
  });
});
