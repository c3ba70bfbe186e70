import { describe, expect, it } from "vitest";
import { knownLevel, otelSeverityFromName, otelSeverityToLevel, toLevel } from "../../src/core/levels.js";

describe("level table", () => {
  it("maps syslog, winston, Python, Java and OTel names onto the four stored levels", () => {
    const table: [string, string][] = [
      ["emerg", "error"],
      ["alert", "error"],
      ["crit", "error"],
      ["critical", "error"],
      ["err", "error"],
      ["CRITICAL", "error"],
      ["FATAL4", "error"],
      ["SEVERE", "error"],
      ["WARNING", "warn"],
      ["WARN2", "warn"],
      ["notice", "info"],
      ["http", "info"],
      ["Information", "info"],
      ["verbose", "debug"],
      ["silly", "debug"],
      ["TRACE3", "debug"],
      ["finest", "debug"],
      ["SEVERITY_NUMBER_WARN", "warn"],
      ["ERROR+2", "error"],
    ];
    for (const [name, level] of table) expect([name, toLevel(name)]).toEqual([name, level]);
  });

  it("maps pino/Bunyan numbers 10-60 and syslog 0-7, also as digit strings", () => {
    expect([10, 20, 30, 40, 50, 60].map(toLevel)).toEqual(["debug", "debug", "info", "warn", "error", "error"]);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(toLevel)).toEqual([
      "error",
      "error",
      "error",
      "error",
      "warn",
      "info",
      "info",
      "debug",
    ]);
    expect(toLevel("50")).toBe("error");
  });

  it("never fails: an unknown name or a non-level value is info, and is reported as unknown", () => {
    expect(toLevel("banana")).toBe("info");
    expect(toLevel(null)).toBe("info");
    expect(toLevel(Number.NaN)).toBe("info");
    expect(knownLevel("banana")).toBeUndefined();
  });

  it("reads OTel severity numbers and enum names", () => {
    expect([1, 5, 9, 13, 17, 21, 24].map(otelSeverityToLevel)).toEqual([
      "debug",
      "debug",
      "info",
      "warn",
      "error",
      "error",
      "error",
    ]);
    expect(otelSeverityToLevel(0)).toBeUndefined();
    expect(otelSeverityFromName("SEVERITY_NUMBER_WARN")).toBe(13);
    expect(otelSeverityFromName("SEVERITY_NUMBER_ERROR3")).toBe(19);
    expect(otelSeverityFromName("SEVERITY_NUMBER_UNSPECIFIED")).toBe(0);
    expect(otelSeverityFromName("WARN")).toBeUndefined();
  });
});
