import { describe, expect, it } from "vitest";
import { parseShardOverrides, shardNames, shardOf } from "../../src/core/sharding.js";

describe("sharding", () => {
  it("names shards with shard 0 as the plain aggregator name", () => {
    const config = { shardsPerService: 1, shardOverrides: new Map([["api", 3]]) };
    expect(shardNames(config, "default", "web")).toEqual(["default/web"]);
    expect(shardNames(config, "default", "api")).toEqual(["default/api", "default/api#1", "default/api#2"]);
  });

  it("spreads ids evenly and always sends an id to the same shard", () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[shardOf(`id-${i}`, 4)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(600);
    expect(shardOf("abc", 4)).toBe(shardOf("abc", 4));
    expect(shardOf("abc", 1)).toBe(0);
  });

  it("parses SHARD_OVERRIDES and rejects malformed pairs", () => {
    expect(parseShardOverrides("api=4, checkout=8")).toEqual(
      new Map([
        ["api", 4],
        ["checkout", 8],
      ]),
    );
    expect(parseShardOverrides("")).toEqual(new Map());
    expect(typeof parseShardOverrides("api=0")).toBe("string");
    expect(typeof parseShardOverrides("api:4")).toBe("string");
    expect(typeof parseShardOverrides("api=65")).toBe("string");
  });
});
