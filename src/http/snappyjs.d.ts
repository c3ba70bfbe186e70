// Types for snappyjs (plain JS, no bundled types): Snappy block format, used by Loki's
// protobuf push (src/http/loki.ts). `maxLength` makes uncompress throw before allocating more.
declare module "snappyjs" {
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  export function compress(uncompressed: Uint8Array): Uint8Array;
  const snappy: { uncompress: typeof uncompress; compress: typeof compress };
  export default snappy;
}
