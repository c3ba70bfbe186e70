// ServiceRegistry: one instance ("global") listing every domain/service that has ingested,
// so fan-out queries and GET /api/services need no scan of Durable Objects or KV.
// Aggregators report themselves on first ingest and then at most once a minute. Reads page
// through it (listPage), so no answer is cut at a fixed row count. New services are admitted
// here first (admit): at most NEW_SERVICES_PER_MINUTE per API key, so one request or one
// careless client can't create thousands of Durable Objects.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env.js";

export interface ServiceInfo {
  domain: string;
  service: string;
  first_seen: number;
  last_seen: number;
}

export const REGISTRY_NAME = "global";

type ServiceRow = { domain: string; service: string; first_seen: number; last_seen: number };

/** Rows per listPage answer: keeps one RPC answer small whatever the registry holds. */
export const REGISTRY_PAGE_SIZE = 1000;

export interface ServicePage {
  services: ServiceInfo[];
  /** pass back as `after` for the next page; null when this is the last page */
  next: { service: string; domain: string } | null;
}

export interface Admission {
  /** the pairs that were new and over the key's budget: not registered, their entries refused */
  refused: { domain: string; service: string }[];
  /** when the key's budget resets */
  retryAfterMs: number;
}

const ADMISSION_WINDOW_MS = 60_000;

export class ServiceRegistry extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS services (
      domain TEXT NOT NULL, service TEXT NOT NULL,
      first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
      PRIMARY KEY (domain, service)
    ) WITHOUT ROWID`);
    // New services admitted per API key in the current minute (admit).
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS admissions (
      key_name TEXT PRIMARY KEY, window_start INTEGER NOT NULL, admitted INTEGER NOT NULL
    ) WITHOUT ROWID`);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS registry_totals (
      name TEXT PRIMARY KEY, value INTEGER NOT NULL
    ) WITHOUT ROWID`);
    // Where each stored check lives, so GET/DELETE /api/checks/:id reach one aggregator.
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS checks (
      id TEXT PRIMARY KEY, domain TEXT NOT NULL, service TEXT NOT NULL
    ) WITHOUT ROWID`);
  }

  indexCheck(id: string, domain: string, service: string): void {
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO checks(id, domain, service) VALUES (?, ?, ?)",
      id,
      domain,
      service,
    );
  }

  unindexCheck(id: string): void {
    this.ctx.storage.sql.exec("DELETE FROM checks WHERE id = ?", id);
  }

  findCheck(id: string): { domain: string; service: string } | null {
    const r = this.ctx.storage.sql
      .exec<{ domain: string; service: string }>("SELECT domain, service FROM checks WHERE id = ?", id)
      .toArray()[0];
    return r ? { domain: r.domain, service: r.service } : null;
  }

  checkLocations(): { domain: string; service: string }[] {
    return this.ctx.storage.sql
      .exec<{ domain: string; service: string }>("SELECT DISTINCT domain, service FROM checks ORDER BY service, domain")
      .toArray()
      .map((r) => ({ ...r }));
  }

  touch(domain: string, service: string, seenAt: number): void {
    this.ctx.storage.sql.exec(
      `INSERT INTO services(domain, service, first_seen, last_seen) VALUES (?, ?, ?, ?)
       ON CONFLICT(domain, service) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
      domain,
      service,
      seenAt,
      seenAt,
    );
  }

  /**
   * Registers the pairs not known yet, up to the key's budget of `perMinute` new services per
   * minute (a fixed window per key); the rest are refused and counted in services_refused_total.
   * Known pairs always pass. One synchronous step: two racing requests can't both spend the budget.
   */
  admit(keyName: string, pairs: { domain: string; service: string }[], now: number, perMinute: number): Admission {
    const sql = this.ctx.storage.sql;
    const unique = [...new Map(pairs.map((p) => [`${p.domain}/${p.service}`, p])).values()];
    const known = new Set(
      sql
        .exec<{ domain: string; service: string }>(
          `SELECT s.domain, s.service FROM services s
           JOIN json_each(?) j ON s.domain = json_extract(j.value, '$.domain') AND s.service = json_extract(j.value, '$.service')`,
          JSON.stringify(unique),
        )
        .toArray()
        .map((r) => `${r.domain}/${r.service}`),
    );
    const fresh = unique.filter((p) => !known.has(`${p.domain}/${p.service}`));
    const windowStart = now - (now % ADMISSION_WINDOW_MS);
    const retryAfterMs = windowStart + ADMISSION_WINDOW_MS - now;
    if (fresh.length === 0) return { refused: [], retryAfterMs };
    const row = sql
      .exec<{ window_start: number; admitted: number }>(
        "SELECT window_start, admitted FROM admissions WHERE key_name = ?",
        keyName,
      )
      .toArray()[0];
    const used = row && row.window_start === windowStart ? row.admitted : 0;
    const allowed = Math.max(0, perMinute - used);
    const admitted = fresh.slice(0, allowed);
    const refused = fresh.slice(allowed);
    for (const p of admitted) this.touch(p.domain, p.service, now);
    sql.exec(
      `INSERT INTO admissions(key_name, window_start, admitted) VALUES (?, ?, ?)
       ON CONFLICT(key_name) DO UPDATE SET window_start = excluded.window_start, admitted = excluded.admitted`,
      keyName,
      windowStart,
      used + admitted.length,
    );
    if (refused.length > 0) {
      sql.exec(
        `INSERT INTO registry_totals(name, value) VALUES ('services_refused_total', ?)
         ON CONFLICT(name) DO UPDATE SET value = value + excluded.value`,
        refused.length,
      );
    }
    return { refused: refused.map((p) => ({ domain: p.domain, service: p.service })), retryAfterMs };
  }

  /** Services refused by admit since the registry was created. */
  refusedTotal(): number {
    return (
      this.ctx.storage.sql
        .exec<{ value: number }>("SELECT value FROM registry_totals WHERE name = 'services_refused_total'")
        .toArray()[0]?.value ?? 0
    );
  }

  /** One page in (service, domain) order, strictly after `after`. */
  listPage(after: { service: string; domain: string } | null, limit = REGISTRY_PAGE_SIZE): ServicePage {
    const n = Math.max(1, Math.min(limit, REGISTRY_PAGE_SIZE));
    const cols = "domain, service, first_seen, last_seen";
    const rows = (
      after
        ? this.ctx.storage.sql.exec<ServiceRow>(
            `SELECT ${cols} FROM services WHERE (service, domain) > (?, ?) ORDER BY service, domain LIMIT ?`,
            after.service,
            after.domain,
            n + 1,
          )
        : this.ctx.storage.sql.exec<ServiceRow>(`SELECT ${cols} FROM services ORDER BY service, domain LIMIT ?`, n + 1)
    )
      .toArray()
      .map((r) => ({ ...r }));
    const page = rows.slice(0, n);
    const last = page[page.length - 1];
    return { services: page, next: rows.length > n && last ? { service: last.service, domain: last.domain } : null };
  }

  /**
   * The rows of these services (in every domain, or only in `domains`), ordered like listPage:
   * a query that names its services reads only their rows, whatever the registry holds.
   */
  find(services: string[], domains: string[] | null): ServiceInfo[] {
    const inDomains = domains ? JSON.stringify(domains) : null;
    return this.ctx.storage.sql
      .exec<ServiceRow>(
        `SELECT domain, service, first_seen, last_seen FROM services
         WHERE service IN (SELECT value FROM json_each(?))
           AND (? IS NULL OR domain IN (SELECT value FROM json_each(?)))
         ORDER BY service, domain`,
        JSON.stringify(services),
        inDomains,
        inDomains ?? "[]",
      )
      .toArray()
      .map((r) => ({ ...r }));
  }

  /** Every row in one answer; prefer listPage (targets.ts knownServices pages through it). */
  list(): ServiceInfo[] {
    return this.ctx.storage.sql
      .exec<{ domain: string; service: string; first_seen: number; last_seen: number }>(
        "SELECT domain, service, first_seen, last_seen FROM services ORDER BY service, domain",
      )
      .toArray()
      .map((r) => ({ ...r }));
  }
}
