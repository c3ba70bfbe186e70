// Bloom filters over a segment's exact-match keys (id, request_id, user_id, session_id, trace_id),
// stored in the segment row so a lookup can skip segments that can't hold a key without decoding
// them. Pure: no Workers APIs. Sized at BITS_PER_KEY bits and HASHES probes per key, about a
// 1% false-positive rate (m/n = 10, k = 7); a false positive costs one extra segment decode.
export const BITS_PER_KEY = 10;
export const HASHES = 7;

/**
 * Two 32-bit hashes of a string for double hashing: FNV-1a over the UTF-16 units, then two
 * different avalanche finalisers (one pass over the key: this runs for every key of every log).
 */
export function hashPair(key: string): [number, number] {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  let h1 = h ^ (h >>> 16);
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  let h2 = Math.imul(h ^ 0x9747b28c, 0x5bd1e995);
  h2 ^= h2 >>> 15;
  h2 = Math.imul(h2, 0x27d4eb2d);
  h2 ^= h2 >>> 16;
  return [h1 >>> 0, (h2 | 1) >>> 0];
}

/** The filter's bytes for `keyCount` keys: at least 8 bytes. */
export function bloomBytes(keyCount: number): number {
  return Math.max(8, Math.ceil((Math.max(1, keyCount) * BITS_PER_KEY) / 8));
}

export function bloomAdd(bits: Uint8Array, h: [number, number]): void {
  const m = bits.length * 8;
  for (let i = 0; i < HASHES; i++) {
    const b = (h[0] + Math.imul(i, h[1])) >>> 0;
    const bit = b % m;
    bits[bit >>> 3] |= 1 << (bit & 7);
  }
}

/** False means certainly absent; true means present or a false positive. */
export function bloomHas(bits: Uint8Array, h: [number, number]): boolean {
  const m = bits.length * 8;
  for (let i = 0; i < HASHES; i++) {
    const b = (h[0] + Math.imul(i, h[1])) >>> 0;
    const bit = b % m;
    if ((bits[bit >>> 3] & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

/** Builds a filter over `keys` (already tagged, see segment-codec's key helpers). */
export function buildBloom(keys: string[]): Uint8Array {
  const bits = new Uint8Array(bloomBytes(keys.length));
  for (const k of keys) bloomAdd(bits, hashPair(k));
  return bits;
}
