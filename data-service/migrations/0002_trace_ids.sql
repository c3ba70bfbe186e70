-- Trace correlation and the level as the client wrote it (issue 13): trace_id and span_id are
-- hex ids (OTLP traceId/spanId, pino's instrumentation, Loki structured metadata); severity is
-- the original level name or number when it was not one of error/warn/info/debug.
ALTER TABLE logs ADD COLUMN trace_id TEXT;
ALTER TABLE logs ADD COLUMN span_id TEXT;
ALTER TABLE logs ADD COLUMN severity TEXT;
-- exact-match search by trace id (all logs of one trace, across services)
CREATE INDEX IF NOT EXISTS logs_trace_id ON logs (trace_id) WHERE trace_id IS NOT NULL;
