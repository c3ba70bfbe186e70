// API-key auth: `Authorization: Bearer <key>`, `X-API-Key`, or `?token=` (browsers, sockets).
// Keys are compared by SHA-256 digest in constant time; the key itself is never stored or logged.
import type { Context } from "hono";
import { ApiError } from "./errors.js";
import { type ApiKey, type Config, type Scope, sha256 } from "./config.js";

export function presentedKey(c: Context, allowQueryToken: boolean): string | undefined {
  const auth = c.req.header("authorization");
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : undefined;
  }
  const header = c.req.header("x-api-key");
  if (header) return header.trim();
  if (allowQueryToken) return c.req.query("token") ?? undefined;
  return undefined;
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
  if (!key) throw new ApiError("unauthorized", 401, "missing API key (Authorization: Bearer <key>)");
  const digest = await sha256(key);
  let match: ApiKey | undefined;
  for (const k of config.apiKeys) if (equalBytes(k.hash, digest)) match = k; // no early exit: constant work
  if (!match) throw new ApiError("unauthorized", 401, "invalid API key");
  const principal = new Principal(match);
  if (!principal.has(scope)) throw new ApiError("forbidden", 403, `this key lacks the "${scope}" scope`);
  return principal;
}
