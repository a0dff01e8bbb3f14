-- How many requests may wait (REQUESTED) for one model at once; a submission past it is refused
-- (429 MODEL_QUEUE_FULL) rather than queued without end.
ALTER TABLE models ADD COLUMN max_waiting integer NOT NULL DEFAULT 1000 CHECK (max_waiting > 0);

-- Counting a model's waiting requests at each submission reads only these.
CREATE INDEX work_requests_waiting_idx ON work_requests (model_id) WHERE status = 'REQUESTED';
