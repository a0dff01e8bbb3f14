-- The warm request path (issue 30, docs/architecture.md "The warm request"): a request that
-- finds a free slot of a ready instance and nobody waiting begins and finishes with one statement
-- each, called by the modelRequest2 workflow's one local activity (activities/warm-request.ts).
-- Anything else (a queue, a retried step that finds the request elsewhere) answers so, and the
-- request goes on by the slot tables' general path (db/instance-slots.ts), which is unchanged.
-- Both take the model's advisory lock that every change to its slots takes, so the two paths
-- stay exact together: first come first served, no slot handed out twice.

-- Begins a waiting request on a free slot: checks the row is REQUESTED and nobody waits for the
-- model, leases the fullest ready instance with room (the order of assignFreeSlots in
-- domain/pool-plan.ts), marks the request PROCESSING and logs ASSIGNED. Answers one jsonb:
--   outcome NOT_VISIBLE: the row is not committed yet (eager start runs before the API commits);
--   outcome ENDED: the request has ended already (status, error);
--   outcome STARTED: the slot, the input and what the call needs (also for a retried step that
--     began it already and still holds its lease);
--   outcome ELSEWHERE: no free slot, someone waits, the model may take longer than
--     p_max_request_timeout_seconds (its calls go to a heartbeating activity), or the request is
--     on the general path.
-- Every outcome but NOT_VISIBLE carries the request's settings.
CREATE FUNCTION begin_warm_request(p_request_id uuid, p_workflow_id text, p_max_request_timeout_seconds integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  chosen record;
  settings jsonb;
  assigned_at timestamptz;
BEGIN
  SELECT w.model_id, w.status, w.created_at, w.input, w.instance_id, w.error, w.webhook_url IS NOT NULL AS has_webhook,
         COALESCE(m.served_model_name, m.id) AS served_model_name, m.request_timeout_seconds,
         m.startup_timeout_seconds, m.max_concurrency
    INTO r
    FROM work_requests w JOIN models m ON m.id = w.model_id
   WHERE w.id = p_request_id;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('outcome', 'NOT_VISIBLE');
  END IF;
  settings := jsonb_build_object(
    'hasWebhook', r.has_webhook,
    'requestedAt', extract(epoch FROM r.created_at) * 1000,
    'requestTimeoutSeconds', r.request_timeout_seconds,
    'startupTimeoutSeconds', r.startup_timeout_seconds);
  IF r.status IN ('COMPLETE', 'FAILED', 'CANCELLED') THEN
    RETURN jsonb_build_object('outcome', 'ENDED', 'status', r.status, 'error', r.error, 'settings', settings);
  END IF;

  IF r.status = 'PROCESSING' THEN
    -- A retried step that began the request: the same slot, if it still holds it.
    SELECT i.id, i.endpoint, i.runtime_ref INTO chosen
      FROM instance_leases l JOIN model_instances i ON i.id = l.instance_id
     WHERE l.request_id = p_request_id AND l.released_at IS NULL AND l.instance_id = r.instance_id;
    IF NOT FOUND THEN
      RETURN jsonb_build_object('outcome', 'ELSEWHERE', 'settings', settings);
    END IF;
  ELSE
    PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '/slots/' || r.model_id));
    IF r.request_timeout_seconds > p_max_request_timeout_seconds
       OR EXISTS (SELECT 1 FROM slot_waiters s WHERE s.model_id = r.model_id)
       OR EXISTS (SELECT 1 FROM instance_leases l WHERE l.request_id = p_request_id AND l.released_at IS NULL) THEN
      RETURN jsonb_build_object('outcome', 'ELSEWHERE', 'settings', settings);
    END IF;
    SELECT i.id, i.endpoint, i.runtime_ref INTO chosen
      FROM model_instances i
     CROSS JOIN LATERAL (SELECT count(*) AS leases FROM instance_leases l
                          WHERE l.instance_id = i.id AND l.released_at IS NULL) held
     WHERE i.model_id = r.model_id AND i.slot_state = 'READY' AND held.leases < r.max_concurrency
     ORDER BY held.leases DESC, i.idle_since DESC NULLS FIRST, i.created_at, i.id
     LIMIT 1;
    IF NOT FOUND THEN
      RETURN jsonb_build_object('outcome', 'ELSEWHERE', 'settings', settings);
    END IF;
    assigned_at := clock_timestamp();
    INSERT INTO instance_leases (request_id, instance_id, model_id, workflow_id, requested_at)
    VALUES (p_request_id, chosen.id, r.model_id, p_workflow_id, r.created_at);
    UPDATE work_requests SET status = 'PROCESSING', started_at = assigned_at, instance_id = chosen.id
     WHERE id = p_request_id;
    INSERT INTO model_instance_log (instance_id, event, request_id, occurred_at)
    VALUES (chosen.id, 'ASSIGNED', p_request_id, assigned_at);
    UPDATE model_instances
       SET idle_since = NULL, status = 'ASSIGNED', updated_at = assigned_at, assigned_request_id = p_request_id
     WHERE id = chosen.id;
  END IF;

  RETURN jsonb_build_object(
    'outcome', 'STARTED', 'settings', settings,
    'slot', jsonb_build_object('instanceId', chosen.id, 'endpoint', chosen.endpoint),
    'runtimeRef', chosen.runtime_ref, 'servedModelName', r.served_model_name, 'input', r.input);
END;
$$;

-- Finishes a request that completed on its slot, in one transaction: stores the result, ends the
-- request COMPLETE, writes its stats row (the rollup triggers run here), and only then takes the
-- model's lock for the instance: RELEASED logged, the lease released, the instance idle when it
-- was the last, whether it drained. When somebody waits, the slot is left leased (released false) for the
-- general path to hand over, as it hands every slot to waiters. Answers one jsonb: ended false
-- when the request had ended already (a retried step); else its model, stats timings and the
-- lease's fate.
CREATE FUNCTION finish_warm_request(p_request_id uuid, p_result jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  ended record;
  timings record;
  released_instance uuid;
  released_state text;
  drained boolean := false;
BEGIN
  UPDATE work_requests
     SET status = 'COMPLETE', result = p_result, processed_at = clock_timestamp(), finished_at = clock_timestamp()
   WHERE id = p_request_id AND status = 'PROCESSING'
  RETURNING model_id, instance_id, attempt, created_at, started_at, processed_at INTO ended;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('ended', false);
  END IF;

  -- As recordRequestStats: pod ready is when the instance was assigned to this attempt.
  INSERT INTO request_stats (model_id, request_id, attempt, result_success, request_timestamp, pod_ready_timestamp, processed_timestamp)
  VALUES (ended.model_id, p_request_id, ended.attempt, true, ended.created_at,
          COALESCE((SELECT max(l.occurred_at) FROM model_instance_log l
                     WHERE l.instance_id = ended.instance_id AND l.request_id = p_request_id AND l.event = 'ASSIGNED'),
                   ended.started_at),
          ended.processed_at)
  ON CONFLICT (request_id, attempt) DO NOTHING
  RETURNING extract(epoch FROM pod_ready_timestamp - request_timestamp)::float8 AS queue_wait,
            extract(epoch FROM processed_timestamp - pod_ready_timestamp)::float8 AS processing,
            extract(epoch FROM processed_timestamp - request_timestamp)::float8 AS total
  INTO timings;

  -- The instance's row only under the lock, as begin_warm_request and the general path take
  -- them (lock, then row): the other order deadlocks with a request beginning on it.
  PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '/slots/' || ended.model_id));
  WITH logged AS (
    INSERT INTO model_instance_log (instance_id, event, request_id) VALUES (ended.instance_id, 'RELEASED', p_request_id)
    RETURNING instance_id, occurred_at)
  UPDATE model_instances i SET status = 'RELEASED', updated_at = logged.occurred_at, assigned_request_id = NULL
    FROM logged WHERE i.id = logged.instance_id;
  IF NOT EXISTS (SELECT 1 FROM slot_waiters s WHERE s.model_id = ended.model_id) THEN
    UPDATE instance_leases SET released_at = clock_timestamp()
     WHERE request_id = p_request_id AND released_at IS NULL
    RETURNING instance_id INTO released_instance;
    IF released_instance IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM instance_leases l WHERE l.instance_id = released_instance AND l.released_at IS NULL) THEN
      UPDATE model_instances i SET idle_since = clock_timestamp()
       WHERE i.id = released_instance AND i.slot_state = 'READY' AND i.idle_since IS NULL;
      SELECT i.slot_state INTO released_state FROM model_instances i WHERE i.id = released_instance;
      drained := released_state = 'DRAINING';
    END IF;
  END IF;

  RETURN jsonb_build_object(
    'ended', true, 'modelId', ended.model_id,
    'timings', CASE WHEN timings IS NULL THEN NULL ELSE jsonb_build_object(
      'queueWaitSeconds', timings.queue_wait, 'processingSeconds', timings.processing, 'totalSeconds', timings.total) END,
    'released', NOT EXISTS (SELECT 1 FROM instance_leases l WHERE l.request_id = p_request_id AND l.released_at IS NULL),
    'drained', drained);
END;
$$;
