// Entry point of the client SDK: `import { LoggerClient } from "edge-logger/src/client"` (or this
// path in the repo). Works in Workers (service binding or URL; call `client.waitUntil(ctx)`)
// and in Node 18+ (global fetch). See README "Client SDK".
export {
  type ClientLogEntry,
  type ClientStats,
  type FetchLike,
  type LogFields,
  type LoggerClientOptions,
  type LogLevel,
  type Timers,
  LoggerClient,
  LoggerClientError,
  MAX_BATCH,
  retryAfterMs,
} from "./logger-client.js";
