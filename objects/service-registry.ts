// ServiceRegistry: one instance ("global") listing every domain/service that has ingested,
// so fan-out queries and GET /api/services need no scan of Durable Objects or KV.
// Aggregators report themselves on first ingest and then at most once a minute.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env.js";

export interface ServiceInfo {
  domain: string;
  service: string;
  first_seen: number;
  last_seen: number;
}

export const REGISTRY_NAME = "global";

export class ServiceRegistry extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS services (
      domain TEXT NOT NULL, service TEXT NOT NULL,
      first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
      PRIMARY KEY (domain, service)
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

  list(): ServiceInfo[] {
    return this.ctx.storage.sql
      .exec<{ domain: string; service: string; first_seen: number; last_seen: number }>(
        "SELECT domain, service, first_seen, last_seen FROM services ORDER BY service, domain",
      )
      .toArray()
      .map((r) => ({ ...r }));
  }
}
