import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  MAX_TEMPLATE_CHARS,
  PatternMiner,
  fnv1a64Hex,
  maskVariables,
  templateSimilarity,
} from "../../src/core/pattern-miner.js";
import { truncateUtf8 } from "../../src/core/utf8.js";
import { extractContent, formatToRegex, groupingAccuracy, parseCsv, splitLines } from "../../scripts/loghub.js";

const FIXTURE_FORMAT = "<Date> <Time> <Level> \\[<Component>\\] <Content>";

function fixture(name: string): string[] {
  const re = formatToRegex(FIXTURE_FORMAT);
  return splitLines(readFileSync(join(__dirname, "../fixtures", name), "utf8")).map((l) => extractContent(l, re));
}

/** Mines all lines; returns per line the surviving id and its final template. */
function mine(lines: string[], miner = new PatternMiner()) {
  const ids = lines.map((l, i) => miner.add(l, 1000 + i).id);
  return ids.map((id) => ({ id: miner.resolve(id), template: miner.get(miner.resolve(id))!.template }));
}

describe("golden templates: test/fixtures/service-mix.log", () => {
  // 60 lines, 12 event shapes. Two shapes hold an enumeration with only two values seen
  // (job states, user root/backup): a word needs 4 distinct values before it is a variable,
  // so those stay apart, one pattern per value.
  const expected: Array<[template: string, lines: number]> = [
    ["Accepted password for <*> from <*> port <*>", 5],
    ["Failed password for invalid user <*> from <*> port <*>", 5],
    ["Connection closed by <*> [preauth]", 5],
    ["Block <*> stored as bytes in memory (size <*>)", 5],
    ["Block broadcast_<*> stored as values in memory (size <*>)", 5],
    ["Worker <*> started job <*>", 5],
    ["GET <*> returned <*> in <*> ms", 5],
    ["User <*> logged in via <*>", 5],
    ["Job state changed from QUEUED to RUNNING", 3],
    ["session opened for user backup by (uid=<*>)", 3],
    ["Query failed: timeout after <*> on table='<*>' at <*>", 5],
    ["Scheduled snapshot period at <*> second(s).", 5],
    ["Job state changed from RUNNING to DONE", 2],
    ["session opened for user root by (uid=<*>)", 2],
  ];

  it("groups every line under the expected template, one id per template", () => {
    const lines = fixture("service-mix.log");
    expect(lines).toHaveLength(60);
    const result = mine(lines);
    const counts = new Map<string, number>();
    const idOf = new Map<string, Set<string>>();
    for (const r of result) {
      counts.set(r.template, (counts.get(r.template) ?? 0) + 1);
      if (!idOf.has(r.template)) idOf.set(r.template, new Set());
      idOf.get(r.template)!.add(r.id);
    }
    expect([...counts].sort()).toEqual([...expected].sort());
    for (const ids of idOf.values()) expect(ids.size).toBe(1);
  });

  it("assigns lines to the right event", () => {
    const result = mine(fixture("service-mix.log"));
    expect(result[0].template).toBe("Accepted password for <*> from <*> port <*>");
    expect(result[3].template).toBe("Block <*> stored as bytes in memory (size <*>)");
    expect(result[4].template).toBe("Block broadcast_<*> stored as values in memory (size <*>)");
    expect(result[8].template).toBe("Job state changed from QUEUED to RUNNING");
    expect(result[20].template).toBe("Job state changed from RUNNING to DONE");
  });

  it("is deterministic: two runs give the same ids and templates", () => {
    const lines = fixture("service-mix.log");
    expect(mine(lines)).toEqual(mine(lines));
    const a = new PatternMiner();
    const b = new PatternMiner();
    lines.forEach((l, i) => a.add(l, i));
    lines.forEach((l, i) => b.add(l, i));
    expect(a.toJSON()).toEqual(b.toJSON());
  });
});

describe("ids and merges", () => {
  it("keeps a pattern's id while its template generalises, and resolves absorbed ids", () => {
    const miner = new PatternMiner();
    const alice = miner.add("Invalid user alice from 10.0.0.1", 1);
    expect(alice).toEqual({ id: alice.id, template: "Invalid user alice from <*>", isNew: true });
    expect(alice.id).toBe(`p${fnv1a64Hex("Invalid user alice from <*>").slice(4)}`);

    // Two or three different names: could be constants of different events, kept apart.
    const bob = miner.add("Invalid user bob from 10.0.0.2", 2);
    const carol = miner.add("Invalid user carol from 10.0.0.3", 3);
    expect(bob.isNew && carol.isNew).toBe(true);
    expect(miner.size).toBe(3);
    expect(miner.get(alice.id)!.template).toBe("Invalid user alice from <*>");

    // The fourth distinct name makes the position a variable: all merge into the oldest id.
    const dave = miner.add("Invalid user dave from 10.0.0.4", 4);
    expect(dave).toEqual({ id: alice.id, template: "Invalid user <*> from <*>", isNew: false });
    expect(miner.size).toBe(1);
    expect(miner.resolve(bob.id)).toBe(alice.id);
    expect(miner.resolve(carol.id)).toBe(alice.id);
    expect(miner.resolve("p000000000000")).toBe("p000000000000");
    expect(miner.get(carol.id)).toEqual({
      id: alice.id,
      template: "Invalid user <*> from <*>",
      count: 4,
      firstSeen: 1,
      lastSeen: 4,
    });
    expect(miner.patterns().map((p) => p.id)).toEqual([alice.id]);

    // Later lines, whatever the name, land on the same id.
    expect(miner.add("Invalid user zed from 10.9.9.9", 5).id).toBe(alice.id);
  });

  it("treats a literal next to a masked value at the same position as a value", () => {
    const miner = new PatternMiner();
    const a = miner.add("lookup for 191-210-223-172.example.net failed");
    const b = miner.add("lookup for ns.example.com failed");
    expect(b.id).toBe(a.id);
    expect(b.template).toBe("lookup for <*> failed");
    expect(miner.size).toBe(1);
  });

  it("treats a host in front of a port as a value: host:port merges at two hosts", () => {
    const miner = new PatternMiner();
    const a = miner.add("connect to alpha:8080 refused");
    const b = miner.add("connect to beta:9090 refused");
    expect(a.template).toBe("connect to alpha:<*> refused");
    expect(b).toEqual({ id: a.id, template: "connect to <*> refused", isNew: false });
    expect(miner.size).toBe(1);
  });

  it("keeps name:value words apart until the position has four values (an enumeration)", () => {
    const miner = new PatternMiner();
    const on = miner.add("got broadcast with action:SCREEN_ON");
    const off = miner.add("got broadcast with action:SCREEN_OFF");
    expect(off.id).not.toBe(on.id);
    expect(miner.size).toBe(2);
    miner.add("got broadcast with action:TIME_TICK");
    const fourth = miner.add("got broadcast with action:USER_PRESENT");
    expect(fourth).toEqual({ id: on.id, template: "got broadcast with <*>", isNew: false });
    expect(miner.resolve(off.id)).toBe(on.id);
  });

  it("groups one event whose date is written in words, whatever the month and weekday", () => {
    const miner = new PatternMiner();
    const ids = [
      "session closed at Sun Jul 17 04:05:59 2005 for root",
      "session closed at Mon Aug 1 14:00:01 2005 for root",
      "session closed at Tue Dec 30 23:59:59 2006 for root",
    ].map((l) => miner.add(l).id);
    expect(new Set(ids).size).toBe(1);
    expect(miner.get(ids[0])!.template).toBe("session closed at <*> for root");
  });

  it("groups one event with and without an optional part of values, and lists of any length", () => {
    const miner = new PatternMiner();
    const sent = ["0 bytes sent", "512 bytes (0.5 KB) sent", "1048576 bytes (1.0 MB) sent"].map((l) => miner.add(l).id);
    expect(new Set(sent).size).toBe(1);
    const asks = ["ask 10.0.0.1:50010 to delete blk_1", "ask 10.0.0.2:50010 to delete blk_2 blk_3 blk_4"].map(
      (l) => miner.add(l).id,
    );
    expect(new Set(asks).size).toBe(1);
    expect(miner.get(asks[0])!.template).toBe("ask <*> to delete blk_<*>");
    expect(miner.size).toBe(2);
  });

  it("finds the event when the first word is the variable", () => {
    const miner = new PatternMiner();
    const programs = ["chrome.exe", "firefox.exe", "Dropbox.exe", "putty.exe", "git.exe"];
    const ids = programs.map(
      (p) => miner.add(`${p} - proxy.example.com:5070 open through proxy proxy.example.com:5070 HTTPS`).id,
    );
    expect(new Set(ids.map((id) => miner.resolve(id)))).toEqual(new Set([ids[0]]));
    expect(miner.get(ids[0])!.template).toBe("<*> - <*> open through proxy <*> HTTPS");
  });

  it("hashes ids with 64-bit FNV-1a and suffixes an id already taken", () => {
    expect(fnv1a64Hex("")).toBe("cbf29ce484222325");
    expect(fnv1a64Hex("hello")).toBe("a430d84680aabd0b");
    const idOf = (template: string) => `p${fnv1a64Hex(template).slice(4)}`;
    expect(new PatternMiner().add("apple pie").id).toBe(idOf("apple pie"));

    // A live pattern already holds the id "cherry tart" hashes to (as after a collision).
    const miner = new PatternMiner();
    miner.add("apple pie");
    const snapshot = JSON.parse(JSON.stringify(miner.toJSON()).split(idOf("apple pie")).join(idOf("cherry tart")));
    const restored = PatternMiner.fromJSON(snapshot);
    expect(restored.add("apple pie").id).toBe(idOf("cherry tart"));
    expect(restored.add("cherry tart")).toEqual({
      id: `${idOf("cherry tart")}-1`,
      template: "cherry tart",
      isNew: true,
    });
  });

  it("match() finds the pattern without learning", () => {
    const miner = new PatternMiner();
    const { id } = miner.add("Connection closed by 10.0.0.1 [preauth]", 5);
    expect(miner.match("Connection closed by 10.9.9.9 [preauth]")).toEqual({
      id,
      template: "Connection closed by <*> [preauth]",
    });
    expect(miner.match("something else entirely")).toBeUndefined();
    expect(miner.match("Connection reset by 10.9.9.9 [preauth]")).toBeUndefined();
    expect(miner.size).toBe(1);
    expect(miner.get(id)!.count).toBe(1);
  });
});

describe("bounds", () => {
  it("respects maxPatterns, evicting the rarest of the least recently used", () => {
    const miner = new PatternMiner({ maxPatterns: 3 });
    const apple = miner.add("apple pie").id;
    miner.add("apple pie");
    miner.add("apple pie");
    const banana = miner.add("banana split").id;
    const cherry = miner.add("cherry tart").id;
    expect(miner.size).toBe(3);
    expect(miner.evictedTotal).toBe(0);

    const date = miner.add("date cake").id; // banana: least recent of the rarest
    expect(miner.size).toBe(3);
    expect(miner.evictedTotal).toBe(1);
    expect(miner.get(banana)).toBeUndefined();

    const again = miner.add("banana split"); // comes back under the same id; cherry goes
    expect(again).toEqual({ id: banana, template: "banana split", isNew: true });
    expect(miner.evictedTotal).toBe(2);
    expect(miner.patterns().map((p) => p.id)).toEqual([apple, date, banana]);
    expect(miner.get(cherry)).toBeUndefined();
  });

  it("counts every eviction and never holds more than the cap", () => {
    const miner = new PatternMiner({ maxPatterns: 10 });
    const words = ["red", "green", "blue", "cyan", "pink", "gray", "teal", "gold", "navy", "plum"];
    let n = 0;
    for (const a of words) {
      for (const b of words) {
        if (a === b) continue;
        miner.add(`${a}${b} ${b}${a} ${a}${a}${b}`); // no token shared between lines: 90 patterns
        n++;
        expect(miner.size).toBeLessThanOrEqual(10);
      }
    }
    expect(n).toBe(90);
    expect(miner.size).toBe(10);
    expect(miner.evictedTotal).toBe(80);
  });

  it("truncates lines at maxLineBytes on a character boundary", () => {
    const miner = new PatternMiner({ maxLineBytes: 12 });
    expect(miner.add("abcdefghij klmnop").template).toBe("abcdefghij k");
    expect(new PatternMiner({ maxLineBytes: 5 }).add("ééé").template).toBe("éé");
    expect(truncateUtf8("a😀b", 4)).toBe("a");
    expect(truncateUtf8("a😀b", 5)).toBe("a😀");
    expect(truncateUtf8("short", 4096)).toBe("short");
  });

  it("never gives a pattern an empty template: a blank message is one <*> (issue 16, item 6)", () => {
    const miner = new PatternMiner();
    const blank = miner.add("   \t \n ");
    expect(blank.template).toBe("<*>");
    expect(miner.add("").id).toBe(blank.id);
    expect(miner.get(blank.id)).toMatchObject({ template: "<*>", count: 2 });
    expect(miner.patterns().every((p) => p.template.trim().length > 0)).toBe(true);
  });

  it("keeps every template within MAX_TEMPLATE_CHARS, even when masking lengthens the line", () => {
    // 63 one-digit values grow to `<*>` (3 chars each) before one long word: 4,277 chars masked.
    const line = `${"1 a ".repeat(63)}${"x".repeat(3900)}`;
    expect(line.length).toBeLessThan(4096 + 100);
    const { template } = new PatternMiner({ maxLineBytes: 8192 }).add(line);
    expect(template.length).toBeLessThanOrEqual(MAX_TEMPLATE_CHARS);
    expect(template.endsWith(" <*>")).toBe(true);
  });

  it("collapses tokens beyond maxTokens into one trailing <*>", () => {
    const miner = new PatternMiner({ maxTokens: 4 });
    expect(miner.add("a b c d e f").template).toBe("a b c <*>");
    expect(miner.add("a b c x y z w").template).toBe("a b c <*>");
    expect(miner.size).toBe(1);
    expect(new PatternMiner({ maxTokens: 4 }).add("a b c d").template).toBe("a b c d");
  });
});

describe("toJSON / fromJSON", () => {
  it("round-trips: a restored miner continues exactly like the original", () => {
    const lines = fixture("service-mix.log");
    const options = { maxPatterns: 8 }; // small cap: eviction runs on both sides
    const full = new PatternMiner(options);
    const expected = lines.map((l, i) => full.add(l, i));

    const head = new PatternMiner(options);
    lines.slice(0, 30).forEach((l, i) => head.add(l, i));
    const snapshot = JSON.parse(JSON.stringify(head.toJSON()));
    expect(snapshot.version).toBe(1);
    const restored = PatternMiner.fromJSON(snapshot, options);
    const tail = lines.slice(30).map((l, i) => restored.add(l, 30 + i));

    expect(tail).toEqual(expected.slice(30));
    expect(restored.toJSON()).toEqual(full.toJSON());
    expect(restored.evictedTotal).toBe(full.evictedTotal);
    expect(full.evictedTotal).toBeGreaterThan(0);
    expect(restored.patterns()).toEqual(full.patterns());
    for (const r of expected) expect(restored.resolve(r.id)).toBe(full.resolve(r.id));
  });

  it("shrinks to a smaller cap given at restore time on the next new pattern", () => {
    const miner = new PatternMiner();
    for (const line of ["apple pie", "banana split", "cherry tart", "date cake"]) miner.add(line);
    const restored = PatternMiner.fromJSON(miner.toJSON(), { maxPatterns: 2 });
    expect(restored.size).toBe(4);
    restored.add("elder wine");
    expect(restored.size).toBe(2);
    expect(restored.evictedTotal).toBe(3);
  });

  it("rejects an unknown snapshot version", () => {
    expect(() => PatternMiner.fromJSON({ version: 2 } as never)).toThrow(/version/);
  });
});

describe("maskVariables", () => {
  const cases: Array<[kind: string, input: string, masked: string]> = [
    ["integer and decimal", "took 15 ms, delta -3.5 units", "took <*> ms, delta <*> units"],
    ["hex", "at 0x7f3a id deadbeef12", "at <*> id <*>"],
    ["uuid", "job 123e4567-e89b-12d3-a456-426614174000 and abcdefab-1234-4abc-8def-0123456789ab", "job <*> and <*>"],
    ["ipv4, host:port, bracketed", "from 192.168.0.1 to 10.0.0.1:8080 [172.16.0.9]", "from <*> to <*> [<*>]"],
    ["ipv6 and mac", "peer fe80::1ff:fe23:4567:890a and ::1 mac FF:F2:9F:16:E2:23", "peer <*> and <*> mac <*>"],
    ["e-mail", "user alice@example.com logged in", "user <*> logged in"],
    ["url", "GET https://example.com/a?b=1 done", "GET <*> done"],
    [
      "unix and windows paths",
      "open /var/log/syslog or ./run.sh or ~/notes or C:\\Windows\\system32",
      "open <*> or <*> or <*> or <*>",
    ],
    ["dates and times", "at 2024-05-01 10:00:01,123 or 2024-05-01T10:00:01Z", "at <*> or <*>"],
    ["quoted values", "service 'sparkDriver' named \"web\"", "service '<*>' named \"<*>\""],
    ["key=value", "status=active ruser= (uid=0) table='orders'", "status=<*> ruser= (uid=<*>) table='<*>'"],
    [
      "name prefix kept for plain numbers",
      "blk_-123 core.1234 size:42 part-00001",
      "blk_<*> core.<*> size:<*> part-<*>",
    ],
    ["call argument", "chdir(/tmp/x) failed", "chdir(<*>) failed"],
    ["identifiers with digits", "MSRA-SA-41.example.com has broadcast_9_piece0 via ssh2", "<*> has <*> via <*>"],
    ["byte units after a number (one value)", "size 5.2 KB, free 317 MiB", "size <*>, free <*>"],
    ["a date in words", "at Sun Jul 17 04:05:59 2005 and Mon, 12 Mar 2024 10:00 UTC", "at <*> and <*>"],
    [
      "month or weekday names not next to a value",
      "May I ask, on Monday, about Jan",
      "May I ask, on Monday, about Jan",
    ],
    [
      "a list of values of any length",
      "hosts 10.0.0.1, 10.0.0.2, 10.0.0.3 and blk_1 blk_2 blk_3",
      "hosts <*> and blk_<*>",
    ],
    ["a bracketed list", "peers [a1] [b2] [c3] up", "peers [<*>] up"],
    ["an optional parenthesised part of values only", "0 bytes (0.0 KB) sent, 1 (2) left", "<*> bytes sent, <*> left"],
    ["a parenthesised part with a constant stays", "done (took 5 ms)", "done (took <*> ms)"],
    ["a host next to its address stays two values", "from ns.example.com [10.0.0.1]", "from ns.example.com [<*>]"],
    ["plain words untouched", "Can't find child in scoreboard", "Can't find child in scoreboard"],
    ["whitespace collapsed", "  a   b\tc ", "a b c"],
  ];
  it.each(cases)("masks %s", (_kind, input, masked) => {
    expect(maskVariables(input)).toBe(masked);
  });
});

describe("templateSimilarity", () => {
  it.each([
    ["a b c", "a b c", 1],
    ["a b c", "x y z", 0],
    ["Failed password for <*> from <*>", "Failed password for root from <*>", 0.916667],
    ["Connection closed by <*>", "Connection closed by <*> [preauth]", 0.8],
    ["blk_<*> done", "blk_123 done", 0.75],
    ["", "", 1],
    ["", "a", 0],
  ])("%j vs %j = %d", (a, b, expected) => {
    expect(templateSimilarity(a, b)).toBe(expected);
    expect(templateSimilarity(b, a)).toBe(expected);
  });
});

describe("benchmark helpers (scripts/loghub.ts)", () => {
  it("turns a Loghub log_format into the benchmark regex", () => {
    const re = formatToRegex("<Date> <Time> - <Level>  \\[<Node>:<Component>@<Id>\\] - <Content>");
    const line =
      "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200";
    expect(extractContent(line, re)).toBe("Notification time out: 3200");
    expect(extractContent("  no header here ", re)).toBe("no header here");
    expect(extractContent(" whole line ", undefined)).toBe("whole line");
  });

  it("parses RFC 4180 CSV", () => {
    expect(parseCsv('a,b\n1,"x, ""y"""\r\n2,\n')).toEqual([
      ["a", "b"],
      ["1", 'x, "y"'],
      ["2", ""],
    ]);
  });

  it("computes grouping accuracy: a group scores all its lines or none", () => {
    expect(groupingAccuracy(["p", "p", "q", "r"], ["A", "A", "B", "B"])).toBe(0.5);
    expect(groupingAccuracy(["p", "p", "p", "r"], ["A", "A", "B", "C"])).toBe(0.25);
    expect(groupingAccuracy(["x", "y"], ["A", "B"])).toBe(1);
  });
});
