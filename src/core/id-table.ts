// An in-memory index from a 32-bit hash of a log id to the seqs holding that hash: exact
// idempotency and get-by-id without a per-log SQLite row. Open addressing over two typed arrays
// (12 bytes a slot, load factor at most 1/2, so ~24 bytes per hot log: 1M hot logs ≈ 24 MB).
// Bounded by the hot store it mirrors (HOT_MAX_ROWS): the aggregator rebuilds it from the
// segments' id-hash columns after trimming. A hit is a candidate: the caller confirms it by
// decoding the segment (two ids may share a hash; 1M ids give a ~0.02% chance per lookup).
export class IdTable {
  #keys: Uint32Array;
  #seqs: Float64Array; // 0 = empty slot (seqs start at 1)
  #size = 0;

  constructor(capacity = 1024) {
    const cap = 2 ** Math.ceil(Math.log2(Math.max(16, capacity)));
    this.#keys = new Uint32Array(cap);
    this.#seqs = new Float64Array(cap);
  }

  get size(): number {
    return this.#size;
  }

  add(hash: number, seq: number): void {
    if ((this.#size + 1) * 2 > this.#seqs.length) this.#grow();
    this.#put(hash >>> 0, seq);
    this.#size++;
  }

  /** Every seq stored under `hash` (usually none or one). */
  lookup(hash: number): number[] {
    const mask = this.#seqs.length - 1;
    const out: number[] = [];
    const h = hash >>> 0;
    for (let i = h & mask; this.#seqs[i] !== 0; i = (i + 1) & mask) if (this.#keys[i] === h) out.push(this.#seqs[i]);
    return out;
  }

  clear(): void {
    this.#keys.fill(0);
    this.#seqs.fill(0);
    this.#size = 0;
  }

  #put(h: number, seq: number): void {
    const mask = this.#seqs.length - 1;
    let i = h & mask;
    while (this.#seqs[i] !== 0) i = (i + 1) & mask;
    this.#keys[i] = h;
    this.#seqs[i] = seq;
  }

  #grow(): void {
    const keys = this.#keys;
    const seqs = this.#seqs;
    this.#keys = new Uint32Array(keys.length * 2);
    this.#seqs = new Float64Array(seqs.length * 2);
    for (let i = 0; i < seqs.length; i++) if (seqs[i] !== 0) this.#put(keys[i], seqs[i]);
  }
}
