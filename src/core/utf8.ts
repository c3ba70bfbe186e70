// UTF-8 byte counting and cutting for strings held as UTF-16. Pure; used by the tokenizer (the
// miner's line bound) and by input normalisation (src/schema/log-entry.ts limits).
//
// A lone surrogate counts 3 bytes: TextEncoder writes it as U+FFFD, so both functions agree
// with what a string costs once it is encoded.

/** UTF-8 length of `s` in bytes. */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Cuts a string to at most `maxBytes` UTF-8 bytes without splitting a character (a surrogate
 * pair is kept or dropped whole). Cheap when the string is clearly short enough: each UTF-16
 * unit is at most 3 bytes.
 */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes) return s;
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let size = 3;
    let units = 1;
    if (c < 0x80) size = 1;
    else if (c < 0x800) size = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
      size = 4;
      units = 2;
    }
    if (bytes + size > maxBytes) return s.slice(0, i);
    bytes += size;
    i += units - 1;
  }
  return s;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
