-- Schema 6: one call id for a call everywhere (log, call list, call hangup,
-- its records), unique across nodes: NODE-RUN-N, where RUN counts the starts
-- of that node (kept in meta as runs:NODE) and N the calls of that run. A
-- transfer writes the part before it as a record of its own with the same id.
ALTER TABLE cdr ADD COLUMN call_id TEXT;
CREATE INDEX cdr_call_id ON cdr (call_id);
