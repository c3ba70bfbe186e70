// The aggregator's only scheduler: the alarm's jobs (flush, migration, trim, KV snapshot, checks,
// pattern push) are tasks that each say when they are next due. "Due" is derived from durable
// state (the outbox's oldest segment, the flush state, meta), never from a field set in a
// constructor: an object is evicted and rebuilt between any two events, and the alarm must still
// fire when the work is due (issue 16, item 1). Only this module calls setAlarm/deleteAlarm.

export interface ScheduledTask {
  readonly name: string;
  /** When this task next has work (ms since epoch), or null when it has none. */
  dueAt(now: number): number | null;
  /** Does the work. `force` = an admin flush: run now, ignoring intervals and backoff. */
  run(now: number, force: boolean): Promise<void>;
  /** Runs on every scheduler run even when not due (cheap bookkeeping, e.g. a checkpoint). */
  readonly everyRun?: boolean;
}

export class Scheduler {
  #alarmAt: number | null = null;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly tasks: readonly ScheduledTask[],
  ) {}

  /** Reads the pending alarm (it survives eviction; the in-memory copy does not). */
  async restore(): Promise<void> {
    this.#alarmAt = await this.storage.getAlarm();
  }

  /** The alarm fired (the platform cleared it). */
  fired(): void {
    this.#alarmAt = null;
  }

  /** Runs every task that is due (all of them when forced), in order. */
  async runDue(now: number, force: boolean): Promise<void> {
    for (const task of this.tasks) {
      const due = task.dueAt(now);
      if (force || task.everyRun || (due !== null && due <= now)) await task.run(now, force);
    }
  }

  /** Earliest due time over all tasks, or null. */
  nextDue(now: number): number | null {
    let next: number | null = null;
    for (const task of this.tasks) {
      const due = task.dueAt(now);
      if (due !== null && (next === null || due < next)) next = due;
    }
    return next === null ? null : Math.max(next, now);
  }

  /** Sets the alarm to the earliest due task (or deletes it when nothing is due). */
  async arm(now: number): Promise<void> {
    await this.armAt(this.nextDue(now), now);
  }

  /** Sets the alarm to exactly `at` (a retry after a failed run), or deletes it for null. */
  async armAt(at: number | null, now: number): Promise<void> {
    if (at === null) {
      if (this.#alarmAt !== null) await this.storage.deleteAlarm();
      this.#alarmAt = null;
    } else if (this.#alarmAt === null || at < this.#alarmAt || this.#alarmAt < now) {
      await this.storage.setAlarm(at);
      this.#alarmAt = at;
    }
  }
}
