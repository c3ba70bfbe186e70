// API-key auth: `X-API-Key`, `Authorization: Bearer <key>`, HTTP Basic with the key as the
// password (any user name: what Loki clients and syslog-ng send), or `?token=` (browsers,
// sockets). X-API-Key wins when both headers are present, so a proxy's own Authorization header
// does not hide it. Keys are compared by SHA-256 digest in constant time; never stored or logged.
import type { Context } from "hono";
import { ApiError } from "./errors.js";
import { type ApiKey, type Config, type Scope, sha256 } from "./config.js";

export function presentedKey(c: Context, allowQueryToken: boolean): string | undefined {
  const header = c.req.header("x-api-key")?.trim();
  if (header) return header;
  const auth = c.req.header("authorization");
  if (auth) return keyFromAuthorization(auth);
  if (allowQueryToken) return c.req.query("token") ?? undefined;
  return undefined;
}

/** The key in an Authorization header: Bearer <key>, or Basic base64(user:key). */
export function keyFromAuthorization(auth: string): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(auth);
  if (!basic) return undefined;
  let decoded: string;
  try {
    const bin = atob(basic[1].replace(/-/g, "+").replace(/_/g, "/"));
    decoded = new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0)));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  const password = colon >= 0 ? decoded.slice(colon + 1) : "";
  return password || undefined;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  const subtle = crypto.subtle as SubtleCrypto & {
    timingSafeEqual?: (a: ArrayBufferView, b: ArrayBufferView) => boolean;
  };
  if (a.length !== b.length) return false;
  if (subtle.timingSafeEqual) return subtle.timingSafeEqual(a, b);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export class Principal {
  constructor(readonly key: ApiKey) {}

  has(scope: Scope): boolean {
    return this.key.scopes.has(scope) || this.key.scopes.has("admin");
  }

  canAccess(service: string): boolean {
    return this.key.services === null || this.key.services.has(service);
  }

  /** Throws 403 unless the key may touch `service`. */
  assertService(service: string): void {
    if (!this.canAccess(service)) throw new ApiError("forbidden", 403, `this key may not access service "${service}"`);
  }
}

export async function authenticate(config: Config, key: string | undefined, scope: Scope): Promise<Principal> {
  if (!key)
    throw new ApiError(
      "unauthorized",
      401,
      "missing API key (Authorization: Bearer <key>, X-API-Key, or Basic auth with the key as password)",
    );
  const digest = await sha256(key);
  let match: ApiKey | undefined;
  for (const k of config.apiKeys) if (equalBytes(k.hash, digest)) match = k; // no early exit: constant work
  if (!match) throw new ApiError("unauthorized", 401, "invalid API key");
  const principal = new Principal(match);
  if (!principal.has(scope)) throw new ApiError("forbidden", 403, `this key lacks the "${scope}" scope`);
  return principal;
}
