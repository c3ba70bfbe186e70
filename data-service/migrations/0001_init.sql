-- Reference data service schema (D1 / SQLite). One row per stored log entry, keyed by the
-- entry's id: writes are INSERT ... ON CONFLICT(id) DO NOTHING, so retries are idempotent.
CREATE TABLE IF NOT EXISTS logs (
  id TEXT PRIMARY KEY,
  timestamp INTEGER NOT NULL,        -- event time, ms since epoch
  received_at INTEGER NOT NULL,      -- ms since epoch, set by the logger
  level TEXT NOT NULL,               -- error | warn | info | debug
  message TEXT NOT NULL,
  service TEXT NOT NULL,
  domain TEXT NOT NULL,
  user_id TEXT,
  session_id TEXT,
  request_id TEXT,
  category TEXT,                     -- auth | data | api | ui
  priority INTEGER,                  -- 1-5
  pattern_id TEXT,
  stack_trace TEXT,
  metadata TEXT,                     -- JSON object
  context TEXT,                      -- JSON {url, method, ip}
  truncated INTEGER,                 -- 1 when the logger cut the message, else NULL
  seq INTEGER                        -- the aggregator's per domain/service sequence
);

-- Search pages by (timestamp, id) in both orders; cleanup and ranges by timestamp.
CREATE INDEX IF NOT EXISTS logs_timestamp ON logs (timestamp, id);
CREATE INDEX IF NOT EXISTS logs_service_timestamp ON logs (service, timestamp, id);
CREATE INDEX IF NOT EXISTS logs_level_timestamp ON logs (level, timestamp);
CREATE INDEX IF NOT EXISTS logs_pattern_timestamp ON logs (pattern_id, timestamp);
CREATE INDEX IF NOT EXISTS logs_request_id ON logs (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS logs_user_id ON logs (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS logs_session_id ON logs (session_id) WHERE session_id IS NOT NULL;

-- Learned patterns, upserted by id (POST /api/logs/patterns/learn).
CREATE TABLE IF NOT EXISTS patterns (
  id TEXT PRIMARY KEY,
  pattern TEXT NOT NULL,
  name TEXT,
  type TEXT NOT NULL,                -- error | warning | info
  severity TEXT NOT NULL,            -- low | medium | high | critical
  category TEXT,
  frequency INTEGER NOT NULL DEFAULT 0,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  services TEXT NOT NULL DEFAULT '[]', -- JSON array of service names
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS patterns_pattern ON patterns (pattern);
