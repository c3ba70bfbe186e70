// A per-aggregator phase in [0, 1). Aggregators that start together (a deploy, a load test, 300
// services in one minute) would otherwise flush, snapshot and push patterns at the same instant
// every interval, and that burst queues every request behind it. The phase comes from the
// aggregator's name, not from Math.random(): a job's due time must be derivable again from
// durable state after the object is evicted, and the same name always gets the same phase.
import { hashPair } from "./bloom.js";

export function phaseOf(name: string): number {
  return hashPair(`phase:${name}`)[0] / 2 ** 32;
}
