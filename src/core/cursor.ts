// Opaque, signed pagination cursors. A cursor binds the query it came from (filters and order),
// so reusing it with other filters, or forging one, is a 400 rather than a silent wrong page.
// Position: (timestamp, source key, seq) — a total order across merged aggregators.
export interface CursorPosition {
  ts: number;
  /**
   * The row's source, the tie-break at equal timestamps: the aggregator (shard) name of a hot
   * row, `<domain>/<service>~` for a row from the data service (src/http/logs.ts). The data
   * service's own cursors carry the log id here, with seq 0 (data-service/src/app.ts).
   */
  k: string;
  seq: number;
}

interface CursorPayload extends CursorPosition {
  v: 1;
  o: "asc" | "desc";
  f: string;
}

const enc = new TextEncoder();

function toBase64Url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

async function hmac(secret: string, data: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(data)));
  return toBase64Url(sig.subarray(0, 16));
}

export async function encodeCursor(
  secret: string,
  order: "asc" | "desc",
  filterKey: string,
  pos: CursorPosition,
): Promise<string> {
  const payload: CursorPayload = { v: 1, o: order, f: filterKey, ts: pos.ts, k: pos.k, seq: pos.seq };
  const body = toBase64Url(enc.encode(JSON.stringify(payload)));
  return `${body}.${await hmac(secret, body)}`;
}

/** Returns the position, or a reason the cursor is not valid for this query. */
export async function decodeCursor(
  secret: string,
  cursor: string,
  order: "asc" | "desc",
  filterKey: string,
): Promise<CursorPosition | string> {
  const [body, sig, extra] = cursor.split(".");
  if (!body || !sig || extra !== undefined) return "cursor was not issued by this server";
  if ((await hmac(secret, body)) !== sig) return "cursor was not issued by this server";
  const bytes = fromBase64Url(body);
  let p: CursorPayload;
  try {
    p = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return "cursor was not issued by this server";
  }
  if (p.o !== order) return "cursor was issued for another order";
  if (p.f !== filterKey) return "cursor was issued for other filters";
  return { ts: p.ts, k: p.k, seq: p.seq };
}

/** Stable key of a query's filters (everything but cursor and limit). */
export function filterKeyOf(query: Record<string, unknown>): string {
  const keys = Object.keys(query)
    .filter((k) => k !== "cursor" && k !== "limit" && query[k] !== undefined)
    .sort();
  return JSON.stringify(keys.map((k) => [k, query[k]]));
}

/** Compares two rows in page order (asc: oldest first). */
export function comparePositions(a: CursorPosition, b: CursorPosition, order: "asc" | "desc"): number {
  const c = a.ts - b.ts || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0) || a.seq - b.seq;
  return order === "asc" ? c : -c;
}

/**
 * The per-aggregator bound equivalent to "strictly after `cursor`" for rows of source `k`:
 * sources ordered before the cursor's may still have rows at the cursor's timestamp.
 */
export function boundFor(cursor: CursorPosition, k: string, order: "asc" | "desc"): { ts: number; seq: number } {
  if (k === cursor.k) return { ts: cursor.ts, seq: cursor.seq };
  const sourceIsAhead = order === "asc" ? k > cursor.k : k < cursor.k;
  // Ahead of the cursor's source at the same ts: rows at cursor.ts are still to come.
  if (sourceIsAhead) return { ts: cursor.ts, seq: order === "asc" ? 0 : Number.MAX_SAFE_INTEGER };
  return { ts: cursor.ts, seq: order === "asc" ? Number.MAX_SAFE_INTEGER : 0 };
}
