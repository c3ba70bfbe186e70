// Stored error-rate checks (POST/GET/DELETE /api/checks) and the webhook notification they send.
import { z } from "zod";
import { parseDuration } from "../core/duration.js";
import { DomainName, ServiceName } from "./log-entry.js";

export const MAX_CHECKS_PER_SERVICE = 20;

/** Names that resolve to the local host or a private network, never a public webhook receiver. */
const PRIVATE_NAME_SUFFIXES = [".localhost", ".local", ".internal", ".lan", ".home.arpa", ".localdomain", ".intranet"];

/**
 * Why a webhook URL is not an allowed target, or undefined when it is. A webhook is a request the
 * logger makes on a user's behalf, so it must not reach the logger's own network (SSRF): only
 * http(s) to a dotted DNS name. Numeric IPs are refused whole (every IPv4 spelling — 2130706433,
 * 0x7f.1 — is normalised to dotted form by the URL parser, and IPv6 literals are bracketed), which
 * covers loopback, private, link-local (169.254.169.254) and every other literal address without
 * a range table; so are localhost, single-label names and private suffixes. A DNS name that
 * resolves to a private address is left to the platform (Workers can't reach private networks).
 */
export function webhookUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an http(s) URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an http(s) URL";
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[") || /^[0-9.]+$/.test(host)) return "must name a host, not a numeric IP address";
  if (host === "localhost" || PRIVATE_NAME_SUFFIXES.some((s) => host.endsWith(s)))
    return "must not be a local or private host name";
  if (!host.includes(".")) return "must be a fully qualified host name (a single-label name is local)";
  return undefined;
}

/**
 * A webhook URL as read keys see it: scheme and host only. Paths and queries of webhook URLs
 * often carry the receiver's secret (Slack, Discord, PagerDuty tokens); admin keys see it whole.
 */
export function maskWebhookUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}/***`;
  } catch {
    return "***";
  }
}

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
      .superRefine((u, ctx) => {
        const problem = webhookUrlProblem(u);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
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
