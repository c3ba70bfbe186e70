// Stored error-rate checks as an alarm job: evaluated on each ingest (an unsharded service) and
// by the alarm while a rate can still move (a check breached, or logs inside the longest check
// window), plus webhook delivery when a notification is due. A sharded service's checks sum every
// shard's counts on the alarm. The state machine and the outbox are in objects/check-runner.ts.
import { addCounts, type LevelCounts } from "../../src/core/rolling-counters.js";
import { shardCount, shardNames } from "../../src/core/sharding.js";
import { type Check, MAX_CHECKS_PER_SERVICE } from "../../src/schema/checks.js";
import { CHECK_INTERVAL_MS, CheckRunner } from "../check-runner.js";
import type { ScheduledTask } from "../scheduler.js";
import type { AggregatorParts } from "./context.js";

interface ShardCounts {
  countsFor(windowsMs: number[]): Promise<LevelCounts[]>;
}

export class ChecksJob implements ScheduledTask {
  readonly name = "checks";
  readonly everyRun = true;
  #runner: CheckRunner | undefined;
  #lastIngestAt = 0;

  constructor(private readonly parts: AggregatorParts) {}

  load(): void {
    this.#runner = new CheckRunner(this.parts.sql);
    if (this.#runner.count > 0) this.#lastIngestAt = Date.now(); // rates may still move: watch
  }

  get #checks(): CheckRunner {
    if (!this.#runner) throw new Error("checks used before the aggregator started");
    return this.#runner;
  }

  /** Fresh logs were stored: an unsharded service's checks are evaluated at once. */
  onIngest(now: number): void {
    if (!this.#runner || this.#runner.count === 0) return;
    this.#lastIngestAt = now;
    // a sharded service's checks need every shard's counts: evaluated on the alarm instead
    if (!this.#sharded()) this.#runner.evaluate(now, (w) => this.parts.counters.count(w, now));
  }

  async add(check: Check, now: number): Promise<Check> {
    const checks = this.#checks;
    if (checks.count >= MAX_CHECKS_PER_SERVICE) throw new Error(`at most ${MAX_CHECKS_PER_SERVICE} checks per service`);
    checks.add(check);
    checks.evaluate(now, await this.#counts(now));
    return checks.list().find((c) => c.id === check.id)!;
  }

  list(): Check[] {
    return this.#checks.list();
  }

  remove(id: string): boolean {
    return this.#checks.remove(id);
  }

  dueAt(now: number): number | null {
    const checks = this.#runner;
    if (checks === undefined || checks.count === 0) return null;
    const notifyAt = checks.nextNotificationAt();
    // Rates move as time passes (errors age out): re-evaluate while a check is breached or
    // logs inside the longest check window exist.
    const watching = this.#sharded() || checks.anyBreached || now - this.#lastIngestAt <= checks.longestWindowMs;
    const next = watching ? now + CHECK_INTERVAL_MS : null;
    return notifyAt === null ? next : next === null ? notifyAt : Math.min(notifyAt, next);
  }

  async run(now: number): Promise<void> {
    const checks = this.#checks;
    if (checks.count === 0) return;
    checks.evaluate(now, await this.#counts(now));
    await checks.deliver(now);
  }

  #sharded(): boolean {
    const { service } = this.parts.identity();
    return service !== "" && shardCount(this.parts.config(), service) > 1;
  }

  /** Counts for check windows: this aggregator's, or the sum over the service's shards. */
  async #counts(now: number): Promise<(windowMs: number) => LevelCounts> {
    const { counters, env } = this.parts;
    const { service, domain, name } = this.parts.identity();
    const names = shardNames(this.parts.config(), domain, service);
    if (names.length <= 1) return (w) => counters.count(w, now);
    const windows = this.#checks.windowsMs();
    const sums = windows.map((w) => counters.count(w, now));
    for (const shard of names.filter((n) => n !== name)) {
      const theirs = await (env.LOG_AGGREGATOR.getByName(shard) as unknown as ShardCounts).countsFor(windows);
      theirs.forEach((c, i) => (sums[i] = addCounts(sums[i], c)));
    }
    return (w) => sums[windows.indexOf(w)] ?? counters.count(w, now);
  }
}
