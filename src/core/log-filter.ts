// The search filter applied in memory (KV chunks, tail subscriptions), with the same meaning as
// segment search (src/core/segment-search.ts): levels, inclusive time range, exact ids, case-insensitive q.
import type { StoredLogEntry } from "../schema/log-entry.js";
import type { LogFilter } from "../schema/query.js";

export function matchesFilter(e: StoredLogEntry, f: LogFilter): boolean {
  if (f.levels && !f.levels.includes(e.level)) return false;
  if (f.startTime !== undefined && e.timestamp < f.startTime) return false;
  if (f.endTime !== undefined && e.timestamp > f.endTime) return false;
  if (f.userId !== undefined && e.user_id !== f.userId) return false;
  if (f.sessionId !== undefined && e.session_id !== f.sessionId) return false;
  if (f.requestId !== undefined && e.request_id !== f.requestId) return false;
  if (f.traceId !== undefined && (e as { trace_id?: unknown }).trace_id !== f.traceId) return false;
  if (f.category !== undefined && e.category !== f.category) return false;
  if (
    f.patternIds !== undefined
      ? !f.patternIds.includes(e.pattern_id ?? "")
      : f.patternId !== undefined && e.pattern_id !== f.patternId
  )
    return false;
  if (f.q !== undefined && !e.message.toLowerCase().includes(f.q.toLowerCase())) return false;
  return true;
}
