// A data service that never answers, or sends headers and then stalls its body, can't hold a
// request or a flush forever (issue 16, item 8: searches that took 604 s with an idle CPU):
// every call is bounded by DATA_SERVICE_TIMEOUT (300 ms in this project) and answers 502
// upstream_unavailable, or, for a flush, keeps the rows and reports the timeout.
import { delay, http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { call, ingest, KEYS, uniqueService } from "../workers/helpers.js";
import { server } from "./setup.js";

/** Far past DATA_SERVICE_TIMEOUT (300 ms), but finite, so nothing is left pending after the run. */
const STALL_MS = 10_000;
const never = async () => {
  await delay(STALL_MS);
  return HttpResponse.json({ error: { code: "internal", message: "too late" } }, { status: 500 });
};
/** 200 with headers now and a body that doesn't end before STALL_MS. */
const stalledBody = () =>
  new HttpResponse(
    new ReadableStream({
      start(controller) {
        setTimeout(() => controller.close(), STALL_MS);
      },
    }),
    { headers: { "content-type": "application/json" } },
  );

async function expectUpstream(res: Response) {
  expect(res.status).toBe(502);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("upstream_unavailable");
  expect(body.error.message).toContain("timed out");
}

describe("a data service that never answers", () => {
  it("analytics summary answers 502 when no headers ever come", async () => {
    server.use(http.get("http://data.test/api/logs/analytics/summary", never));
    await expectUpstream(await call("/api/logs/analytics/summary", { key: KEYS.read }));
  });

  it("analytics summary answers 502 when the body stalls after the headers", async () => {
    server.use(http.get("http://data.test/api/logs/analytics/summary", stalledBody));
    await expectUpstream(await call("/api/logs/analytics/summary", { key: KEYS.read }));
  });

  it("get-by-id answers 502 (not a hang, not a 404) when the data service stalls", async () => {
    server.use(http.get("http://data.test/api/logs/:id", stalledBody));
    await expectUpstream(await call("/api/logs/no-such-id-anywhere", { key: KEYS.read }));
  });

  it("an admin flush into a stalled store answers, keeps the rows and reports the timeout", async () => {
    const service = uniqueService("stall");
    expect((await ingest([{ level: "info", message: "kept", service }])).body.accepted).toBe(1);
    server.use(http.post("http://data.test/api/logs/batch", stalledBody));
    const res = await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { flushed: number; pending: number; last_error: string | null };
    expect(body.flushed).toBe(0);
    expect(body.pending).toBe(1);
    expect(body.last_error).toContain("timed out");
  });
});
