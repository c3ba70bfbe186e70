// Typed access to aggregator stubs. workers-types maps RPC results with index signatures
// (our `metadata` record) to `never`, so the stub is viewed through the class's own method
// types instead: the same methods, each returning a Promise.
import type { Env } from "../env.js";
import type { LogAggregator } from "../../objects/log-aggregator.js";

type RpcMethods<T> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

export type AggregatorStub = Omit<
  RpcMethods<LogAggregator>,
  "fetch" | "alarm" | "webSocketMessage" | "webSocketClose" | "webSocketError"
>;

export function aggregator(env: Env, name: string): AggregatorStub {
  return env.LOG_AGGREGATOR.getByName(name) as unknown as AggregatorStub;
}
