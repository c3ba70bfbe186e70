// `npm run tail` (scripts/tail.ts) against the logger under `wrangler dev`: with --level error it
// prints the error and nothing else, one line per log.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type DevServer,
  INGEST_KEY,
  ingest,
  READ_KEY,
  spawnGroup,
  type Spawned,
  startDevServer,
  unique,
  waitFor,
} from "./harness.js";

let server: DevServer | undefined;
let cli: Spawned | undefined;
const refused: Spawned[] = [];

beforeAll(async () => {
  server = await startDevServer();
}, 180_000);

afterAll(async () => {
  await cli?.stop();
  for (const r of refused) await r.stop();
  await server?.stop();
}, 30_000);

describe("tail CLI", () => {
  it("prints exactly the matching error line for --service S --level error", async () => {
    const service = unique("cli");
    cli = spawnGroup(
      "npx",
      ["tsx", "scripts/tail.ts", "--service", service, "--level", "error", "--url", server!.url],
      {
        LOGGER_READ_KEY: READ_KEY,
        NO_COLOR: "1",
      },
    );
    await waitFor("the CLI to connect", () => /connected/.test(cli!.stderr()) || cli!.child.exitCode !== null, 60_000);
    expect(cli.child.exitCode, cli.stderr()).toBeNull();

    const error = unique("cli error: db timeout");
    const info = unique("cli info: GET /users 200");
    await ingest(server!.url, [
      { service, level: "info", message: info },
      { service, level: "error", message: error },
      { service: unique("other"), level: "error", message: "another service's error" },
    ]);
    await waitFor("the error line", () => cli!.stdout().includes(error), 5000);
    await new Promise((r) => setTimeout(r, 1000)); // anything else would have arrived by now

    const lines = cli.stdout().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z ERROR ${service} ${error}$`),
    );
    expect(cli.stdout()).not.toContain(info);
  });
  // The handshake's refusals (issue 14): one clear line saying what to change, exit code 1, no retry.
  for (const [name, key, args, line] of [
    [
      "an unknown key",
      "no-such-key",
      [],
      /refused \(401 unauthorized\): .*Pass a read key with --token or LOGGER_READ_KEY\./,
    ],
    [
      "a key without the read scope",
      INGEST_KEY,
      [],
      /refused \(403 forbidden\): .*The key lacks the read scope or access to this service/,
    ],
    [
      "a bad filter",
      READ_KEY,
      ["--level", "loud"],
      /refused \(400 bad request\): .*\[level\]\. Fix the option and retry\./,
    ],
  ] as const) {
    it(`says why and exits 1 on ${name}`, async () => {
      const r = spawnGroup(
        "npx",
        ["tsx", "scripts/tail.ts", "--service", unique("cli-refused"), ...args, "--url", server!.url],
        { LOGGER_READ_KEY: key, NO_COLOR: "1" },
      );
      refused.push(r);
      await waitFor("the CLI to exit", () => r.child.exitCode !== null, 60_000);
      expect(r.child.exitCode, r.stderr()).toBe(1);
      expect(r.stderr()).toMatch(line);
      expect(r.stdout()).toBe("");
    });
  }
});
