// Stored error-rate checks (POST/GET/DELETE /api/checks) and the webhook notification they send.
import { z } from "zod";
import { parseDuration } from "../core/duration.js";
import { DomainName, ServiceName } from "./log-entry.js";

export const MAX_CHECKS_PER_SERVICE = 20;

export const CheckInput = z
  .object({
    name: z.string({ error: "must be a string" }).min(1).max(128).optional(),
    service: ServiceName,
    domain: DomainName.optional(),
    window: z
      .string({ error: "must be <n>s|m|h|d" })
      .refine((s) => {
        const ms = parseDuration(s);
        return ms !== undefined && ms <= 86_400_000;
      }, "must be <n>s|m|h|d, at most 24h")
      .default("5m"),
    threshold: z
      .number({ error: "must be a number in [0, 1]" })
      .min(0, "must be a number in [0, 1]")
      .max(1, "must be a number in [0, 1]")
      .default(0.05),
    min_events: z
      .number({ error: "must be an integer >= 0" })
      .int("must be an integer >= 0")
      .min(0, "must be an integer >= 0")
      .max(1e9)
      .default(20),
    webhook_url: z
      .string({ error: "must be an http(s) URL" })
      .max(2048)
      .refine((u) => {
        try {
          const p = new URL(u).protocol;
          return p === "https:" || p === "http:";
        } catch {
          return false;
        }
      }, "must be an http(s) URL"),
  })
  .strict();
export type CheckInput = z.output<typeof CheckInput>;

export interface Check {
  id: string;
  name?: string;
  service: string;
  domain: string;
  window: string;
  threshold: number;
  min_events: number;
  webhook_url: string;
  created_at: number;
  state: "ok" | "breached";
  state_since: number;
  last: { rate: number; errors: number; total: number; at: number } | null;
}

/** The JSON a webhook receives, once per state change; `id` lets receivers drop retried copies. */
export interface CheckNotification {
  id: string;
  type: "check.state_changed";
  check_id: string;
  name?: string;
  service: string;
  domain: string;
  state: "ok" | "breached";
  previous: "ok" | "breached";
  rate: number;
  errors: number;
  total: number;
  threshold: number;
  min_events: number;
  window: string;
  at: number;
}
