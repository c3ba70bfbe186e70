// Issue 16, item 6: a whitespace-only message must not give its pattern an empty template. The
// data service refuses an empty pattern with 400, and that refusal used to fail every later
// pattern push of the service, so none of its patterns reached history.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, ingest, KEYS, uniqueService } from "./helpers.js";

const d1 = (env as unknown as { DB: D1Database }).DB;

describe("patterns of blank messages", () => {
  it("pushes a service's patterns to the data service after a whitespace-only message", async () => {
    const service = uniqueService("blank");
    const sent = await ingest([
      { id: `${service}-blank`, level: "info", message: " \t  ", service },
      { id: `${service}-disk`, level: "error", message: "Disk full on /dev/sda1", service },
    ]);
    expect(sent.body.accepted).toBe(2);
    const flush = await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin });
    expect(flush.status).toBe(200);

    const rows = await d1
      .prepare("SELECT pattern, frequency FROM patterns WHERE services LIKE ? ORDER BY pattern")
      .bind(`%"${service}"%`)
      .all<{ pattern: string; frequency: number }>();
    expect(rows.results).toEqual([
      { pattern: "<*>", frequency: 1 },
      { pattern: "Disk full on <*>", frequency: 1 },
    ]);
  });
});
