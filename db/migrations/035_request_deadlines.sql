-- Deadlines (issue 35). A request may say by when its answer is of use: one that has not
-- started by then ends FAILED with EXPIRED and never takes a slot; one still running then is cut
-- (DEADLINE_EXCEEDED). The line skips waiters past their deadline when it hands out a slot.
ALTER TABLE work_requests ADD COLUMN deadline_at timestamptz;
ALTER TABLE slot_waiters ADD COLUMN deadline_at timestamptz;
ALTER TABLE request_stats ADD COLUMN deadline_at timestamptz;

-- As migration 033's, reading the deadline too.
CREATE OR REPLACE FUNCTION request_stats_stream_figures() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  usage jsonb;
BEGIN
  SELECT r.result -> 'usage', r.priority, r.deadline_at INTO usage, NEW.priority, NEW.deadline_at
    FROM work_requests r WHERE r.id = NEW.request_id;
  NEW.tokens_in := request_stats_token_count(usage -> 'prompt_tokens');
  NEW.tokens_out := request_stats_token_count(usage -> 'completion_tokens');
  SELECT min(c.created_at) INTO NEW.first_token_timestamp
    FROM request_chunks c WHERE c.request_id = NEW.request_id AND c.kind = 'text';
  RETURN NEW;
END
$$;

-- As migration 023's, with the deadline in the settings, and a request past its deadline never
-- begun here (the general path then ends it EXPIRED without a slot).
CREATE OR REPLACE FUNCTION begin_warm_request(p_request_id uuid, p_workflow_id text, p_max_request_timeout_seconds integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  chosen record;
  settings jsonb;
  assigned_at timestamptz;
BEGIN
  FOR look IN 1..2 LOOP
    SELECT w.model_id, w.status, w.created_at, w.input, w.instance_id, w.error, w.webhook_url IS NOT NULL AS has_webhook, w.deadline_at,
           COALESCE(m.served_model_name, m.id) AS served_model_name, m.request_timeout_seconds,
           m.startup_timeout_seconds
      INTO r
      FROM work_requests w JOIN models m ON m.id = w.model_id
     WHERE w.id = p_request_id;
    EXIT WHEN FOUND;
    IF look = 2 THEN
      RETURN jsonb_build_object('outcome', 'NOT_VISIBLE');
    END IF;
    -- The API inserts the row and starts this workflow in one transaction that holds this lock
    -- (insertWorkRequest): an eagerly started workflow gets here before it commits. Waiting for
    -- the lock is waiting for that commit (or its rollback); the next look sees the row.
    PERFORM pg_advisory_xact_lock_shared(hashtext(current_schema() || '/request/' || p_request_id));
  END LOOP;
  settings := jsonb_build_object(
    'hasWebhook', r.has_webhook,
    'requestedAt', extract(epoch FROM r.created_at) * 1000,
    'requestTimeoutSeconds', r.request_timeout_seconds,
    'startupTimeoutSeconds', r.startup_timeout_seconds,
    'deadlineAt', extract(epoch FROM r.deadline_at) * 1000);
  IF r.status IN ('COMPLETE', 'FAILED', 'CANCELLED') THEN
    RETURN jsonb_build_object('outcome', 'ENDED', 'status', r.status, 'error', r.error, 'settings', settings);
  END IF;

  IF r.status = 'PROCESSING' THEN
    -- A retried step that began the request: the same slot, if it still holds it.
    SELECT i.id AS instance_id, i.endpoint, i.runtime_ref INTO chosen
      FROM instance_leases l JOIN model_instances i ON i.id = l.instance_id
     WHERE l.request_id = p_request_id AND l.released_at IS NULL AND l.instance_id = r.instance_id;
    IF NOT FOUND THEN
      RETURN jsonb_build_object('outcome', 'ELSEWHERE', 'settings', settings);
    END IF;
  ELSE
    PERFORM pg_advisory_xact_lock_shared(hashtext(current_schema() || '/slots/' || r.model_id));
    IF r.request_timeout_seconds > p_max_request_timeout_seconds
       OR r.deadline_at <= clock_timestamp()
       OR EXISTS (SELECT 1 FROM instance_leases l WHERE l.request_id = p_request_id AND l.released_at IS NULL) THEN
      RETURN jsonb_build_object('outcome', 'ELSEWHERE', 'settings', settings);
    END IF;
    SELECT * INTO chosen FROM lease_free_slot(p_request_id, r.model_id, p_workflow_id, r.created_at);
    IF NOT FOUND THEN
      RETURN jsonb_build_object('outcome', 'ELSEWHERE', 'settings', settings);
    END IF;
    assigned_at := clock_timestamp();
    UPDATE work_requests SET status = 'PROCESSING', started_at = assigned_at, instance_id = chosen.instance_id
     WHERE id = p_request_id;
    INSERT INTO model_instance_log (instance_id, event, request_id, occurred_at)
    VALUES (chosen.instance_id, 'ASSIGNED', p_request_id, assigned_at);
    UPDATE model_instances
       SET status = 'ASSIGNED', updated_at = assigned_at, assigned_request_id = p_request_id
     WHERE id = chosen.instance_id AND status NOT IN ('TERMINATED', 'FAILED');
  END IF;

  RETURN jsonb_build_object(
    'outcome', 'STARTED', 'settings', settings,
    'slot', jsonb_build_object('instanceId', chosen.instance_id, 'endpoint', chosen.endpoint),
    'runtimeRef', chosen.runtime_ref, 'servedModelName', r.served_model_name, 'input', r.input);
END;
$$;
