-- Priorities (issue 35): a request is high (0), normal (1) or low (2). Waiters are served by
-- priority, then in submission order. A user's ceiling is the highest they may ask for: normal,
-- or high once an admin grants it (audited); anonymous sessions ask for normal at most.
ALTER TABLE work_requests ADD COLUMN priority smallint NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 2);
ALTER TABLE slot_waiters ADD COLUMN priority smallint NOT NULL DEFAULT 1;
-- The priority a lease's request waited with (null for one that never waited), so that the
-- line's order can be checked afterwards, exactly.
ALTER TABLE instance_leases ADD COLUMN priority smallint;
DROP INDEX slot_waiters_queue_idx;
CREATE INDEX slot_waiters_queue_idx ON slot_waiters (model_id, priority, requested_at, request_id);
ALTER TABLE users ADD COLUMN priority_ceiling smallint NOT NULL DEFAULT 1 CHECK (priority_ceiling BETWEEN 0 AND 1);

-- Each stats row keeps the priority its request asked for, filled in as the row goes in, with
-- the stream's figures (migration 030's trigger, now also reading the priority).
ALTER TABLE request_stats ADD COLUMN priority smallint;
CREATE OR REPLACE FUNCTION request_stats_stream_figures() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  usage jsonb;
BEGIN
  SELECT r.result -> 'usage', r.priority INTO usage, NEW.priority FROM work_requests r WHERE r.id = NEW.request_id;
  NEW.tokens_in := request_stats_token_count(usage -> 'prompt_tokens');
  NEW.tokens_out := request_stats_token_count(usage -> 'completion_tokens');
  SELECT min(c.created_at) INTO NEW.first_token_timestamp
    FROM request_chunks c WHERE c.request_id = NEW.request_id AND c.kind = 'text';
  RETURN NEW;
END
$$;
