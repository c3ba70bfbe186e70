// Stored error-rate checks of one aggregator: their state, the state machine run on ingest and
// on the alarm, and the webhook outbox. A transition writes one notification row in the same
// synchronous step as the new state, so it is sent once (retried with backoff until delivered
// or MAX_ATTEMPTS), never lost by a restart and never doubled by a re-evaluation.
import { nanoid } from "nanoid";
import { backoffDelay } from "../src/core/backoff.js";
import { nextCheckState } from "../src/core/check-state.js";
import { parseDuration } from "../src/core/duration.js";
import { evaluateErrorRate } from "../src/core/error-rate.js";
import type { LevelCounts } from "../src/core/rolling-counters.js";
import { withDeadline } from "../src/core/deadline.js";
import { type Check, type CheckNotification, webhookUrlProblem } from "../src/schema/checks.js";

export const CHECK_INTERVAL_MS = 10_000;
/** Total time one delivery run may take; every webhook of the run shares it (they run in parallel). */
export const WEBHOOK_BUDGET_MS = 5_000;
/** Notifications sent per run (the rest wait for the next run, a moment later). */
export const MAX_WEBHOOKS_PER_RUN = 20;
/** A claim outlives the budget by this much, so a run that overshoots a little isn't raced. */
const CLAIM_MARGIN_MS = 5_000;
export const MAX_ATTEMPTS = 10;
const BACKOFF = { baseMs: 1_000, capMs: 10 * 60_000, floorMs: 500 };

export class CheckRunner {
  #checks: Check[] = [];

  constructor(private readonly sql: SqlStorage) {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS checks (id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS notifications (
        id TEXT PRIMARY KEY, check_id TEXT NOT NULL, url TEXT NOT NULL, payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending', last_error TEXT
      ) WITHOUT ROWID;
    `);
    this.#checks = sql
      .exec<{ body: string }>("SELECT body FROM checks")
      .toArray()
      .map((r) => JSON.parse(r.body) as Check);
  }

  get count(): number {
    return this.#checks.length;
  }

  list(): Check[] {
    return this.#checks.map((c) => ({ ...c }));
  }

  add(check: Check): void {
    this.#checks.push(check);
    this.#save(check);
  }

  remove(id: string): boolean {
    const before = this.#checks.length;
    this.#checks = this.#checks.filter((c) => c.id !== id);
    this.sql.exec("DELETE FROM checks WHERE id = ?", id);
    return this.#checks.length < before;
  }

  #save(check: Check): void {
    this.sql.exec("INSERT OR REPLACE INTO checks(id, body) VALUES (?, ?)", check.id, JSON.stringify(check));
  }

  get anyBreached(): boolean {
    return this.#checks.some((c) => c.state === "breached");
  }

  /** The distinct windows of the checks, in ms. */
  windowsMs(): number[] {
    return [...new Set(this.#checks.map((c) => parseDuration(c.window)!))];
  }

  /** Longest check window: while logs within it exist, rates can change as time passes. */
  get longestWindowMs(): number {
    return Math.max(0, ...this.#checks.map((c) => parseDuration(c.window) ?? 0));
  }

  /** Runs every check against the live counters; returns how many notifications were queued. */
  evaluate(now: number, counts: (windowMs: number) => LevelCounts): number {
    let queued = 0;
    for (const c of this.#checks) {
      const r = evaluateErrorRate(counts(parseDuration(c.window)!), c.threshold, c.min_events);
      const next = nextCheckState(c.state, r);
      c.last = { rate: r.rate, errors: r.errors, total: r.total, at: now };
      if (next === c.state) continue;
      const n: CheckNotification = {
        id: nanoid(),
        type: "check.state_changed",
        check_id: c.id,
        ...(c.name ? { name: c.name } : {}),
        service: c.service,
        domain: c.domain,
        state: next,
        previous: c.state,
        rate: r.rate,
        errors: r.errors,
        total: r.total,
        threshold: c.threshold,
        min_events: c.min_events,
        window: c.window,
        at: now,
      };
      c.state = next;
      c.state_since = now;
      this.#save(c);
      this.sql.exec(
        "INSERT INTO notifications(id, check_id, url, payload, next_at) VALUES (?, ?, ?, ?, ?)",
        n.id,
        c.id,
        c.webhook_url,
        JSON.stringify(n),
        now,
      );
      queued++;
    }
    return queued;
  }

  nextNotificationAt(): number | null {
    return this.sql
      .exec<{ t: number | null }>("SELECT min(next_at) AS t FROM notifications WHERE status = 'pending'")
      .one().t;
  }

  /**
   * POSTs due notifications in parallel, all under one budget (WEBHOOK_BUDGET_MS for the whole
   * run: 20 hanging hooks cost 5 s, not 100 s, and the alarm's other jobs wait at most that).
   * Claiming is synchronous with the select: the rows' next_at moves past the budget before the
   * first await, so an admin flush racing the alarm finds nothing due and a transition is sent
   * once. If the object dies mid-send the claim expires and the row is retried (receivers dedupe
   * on X-Notification-Id). Redirects are not followed (a 3xx is a failure), and a URL that is not
   * an allowed target (stored before the rule existed) fails for good without a request.
   */
  async deliver(now: number): Promise<void> {
    const due = this.sql
      .exec<{ id: string; url: string; payload: string; attempts: number }>(
        "SELECT id, url, payload, attempts FROM notifications WHERE status = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?",
        now,
        MAX_WEBHOOKS_PER_RUN,
      )
      .toArray();
    if (due.length === 0) return;
    const claimedUntil = now + WEBHOOK_BUDGET_MS + CLAIM_MARGIN_MS;
    for (const n of due) this.sql.exec("UPDATE notifications SET next_at = ? WHERE id = ?", claimedUntil, n.id);

    const errors = await Promise.all(due.map((n) => postWebhook(n)));
    const doneAt = Date.now();
    due.forEach((n, i) => {
      const error = errors[i];
      if (error === undefined) {
        this.sql.exec("DELETE FROM notifications WHERE id = ?", n.id);
        return;
      }
      const attempts = error.permanent ? MAX_ATTEMPTS : n.attempts + 1;
      const status = attempts >= MAX_ATTEMPTS ? "failed" : "pending";
      this.sql.exec(
        "UPDATE notifications SET attempts = ?, next_at = ?, status = ?, last_error = ? WHERE id = ?",
        attempts,
        doneAt + backoffDelay(attempts - 1, BACKOFF),
        status,
        error.message.slice(0, 500),
        n.id,
      );
    });
  }

  failedNotifications(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM notifications WHERE status = 'failed'").one().n;
  }
}

/** One POST; undefined when the hook took it (2xx), else why not (permanent: never retried). */
async function postWebhook(n: { id: string; url: string; payload: string }): Promise<WebhookError | undefined> {
  const problem = webhookUrlProblem(n.url);
  if (problem) return { message: `webhook_url not allowed: ${problem}`, permanent: true };
  try {
    return await withDeadline(WEBHOOK_BUDGET_MS, "webhook", async (signal) => {
      const res = await fetch(n.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "edge-logger-checks/1",
          "x-notification-id": n.id,
        },
        body: n.payload,
        redirect: "manual", // a redirect could point anywhere (an internal address): never followed
        signal,
      });
      await res.body?.cancel();
      if (res.status >= 300 && res.status < 400) return { message: `HTTP ${res.status} (redirects are not followed)` };
      return res.ok ? undefined : { message: `HTTP ${res.status}` };
    });
  } catch (err) {
    return { message: err instanceof Error ? err.message : String(err) };
  }
}

interface WebhookError {
  message: string;
  permanent?: boolean;
}
