-- One model's slots without one lock (issue 30, docs/architecture.md "Slots"): while nobody
-- waits for the model, leases and releases take its advisory lock SHARED, so they run side by
-- side; everything that queues, hands a slot over or changes the instances takes it EXCLUSIVE
-- (db/instance-slots.ts), and so sees every lease and release committed, as before. The queue
-- (slot_waiters) changes only under the exclusive lock, so "nobody waits" holds for as long as
-- a shared holder looks.
--
-- Side by side, two leases must not take the same slot: each lease names its slot (1 to the
-- model's max_concurrency), claimed with a transaction-level try-lock on that slot (SKIP LOCKED's
-- way: a slot being taken is passed over, never waited for) and checked free by a statement
-- that starts after the claim. A unique index makes a double lease an error, never a silent one.

ALTER TABLE instance_leases ADD COLUMN slot integer;
UPDATE instance_leases l SET slot = numbered.n
  FROM (SELECT id, row_number() OVER (PARTITION BY instance_id ORDER BY id) AS n
          FROM instance_leases WHERE released_at IS NULL) numbered
 WHERE l.id = numbered.id;
CREATE UNIQUE INDEX instance_leases_slot_idx ON instance_leases (instance_id, slot) WHERE released_at IS NULL;
-- The slot index answers every "unreleased leases of an instance" the old one did.
DROP INDEX instance_leases_instance_idx;

-- A free slot of one of the model's ready instances, leased to the request, when nobody waits;
-- no row when there is none (or someone waits, or, rarely, every free slot was being claimed
-- by others through three looks): the general path then decides, exactly, under the lock. The fullest
-- instance with room first, as assignFreeSlots in domain/pool-plan.ts. Takes the model's lock
-- shared. An instance whose max_concurrency was lowered below its leases is full.
CREATE FUNCTION lease_free_slot(p_request_id uuid, p_model_id text, p_workflow_id text, p_requested_at timestamptz)
RETURNS TABLE (instance_id uuid, endpoint text, runtime_ref text)
LANGUAGE plpgsql AS $$
DECLARE
  max_slots integer;
  candidate record;
  s integer;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtext(current_schema() || '/slots/' || p_model_id));
  IF EXISTS (SELECT 1 FROM slot_waiters w WHERE w.model_id = p_model_id) THEN
    RETURN;
  END IF;
  SELECT m.max_concurrency INTO max_slots FROM models m WHERE m.id = p_model_id;
  -- A look reads the leases as they were when it began, and passes over slots others are
  -- claiming: it can find none while one is freed. A second and third look see those.
  FOR look IN 1..3 LOOP
    FOR candidate IN
      SELECT i.id, i.endpoint, i.runtime_ref, held.slots
        FROM model_instances i
       CROSS JOIN LATERAL (SELECT COALESCE(array_agg(l.slot), '{}') AS slots FROM instance_leases l
                            WHERE l.instance_id = i.id AND l.released_at IS NULL) held
       WHERE i.model_id = p_model_id AND i.slot_state = 'READY' AND cardinality(held.slots) < max_slots
       ORDER BY cardinality(held.slots) DESC, i.idle_since DESC NULLS FIRST, i.created_at, i.id
    LOOP
      FOR s IN 1..max_slots LOOP
        CONTINUE WHEN s = ANY (candidate.slots);
        CONTINUE WHEN NOT pg_try_advisory_xact_lock(hashtext(current_schema() || '/slot/' || candidate.id || '/' || s));
        -- A fresh look, after the claim: a lease of this slot committed since the candidates were read shows here.
        CONTINUE WHEN EXISTS (SELECT 1 FROM instance_leases l WHERE l.instance_id = candidate.id AND l.slot = s AND l.released_at IS NULL);
        INSERT INTO instance_leases (request_id, instance_id, model_id, workflow_id, requested_at, slot)
        VALUES (p_request_id, candidate.id, p_model_id, p_workflow_id, p_requested_at, s);
        -- Only an idle instance's row is written: busy ones are not locked by every lease.
        UPDATE model_instances i SET idle_since = NULL WHERE i.id = candidate.id AND i.idle_since IS NOT NULL;
        RETURN QUERY SELECT candidate.id, candidate.endpoint, candidate.runtime_ref;
        RETURN;
      END LOOP;
    END LOOP;
  END LOOP;
END;
$$;

-- Releases the request's lease when nobody waits and its instance is READY, and answers the
-- instance; NULL otherwise (someone waits, so the slot must be handed over; or the instance is
-- draining or unhealthy, whose pool must hear of its last release): the general path
-- (releaseSlot) does that under the exclusive lock. Takes the model's lock shared.
-- The instance is marked idle when this looks like its last lease. Side by side with a lease
-- on the same instance that look can be a moment off either way; the pool's round, which takes
-- the lock exclusive, marks any instance with no lease and no idle time (markIdle).
CREATE FUNCTION release_slot(p_request_id uuid, p_model_id text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  released uuid;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtext(current_schema() || '/slots/' || p_model_id));
  IF EXISTS (SELECT 1 FROM slot_waiters w WHERE w.model_id = p_model_id) THEN
    RETURN NULL;
  END IF;
  UPDATE instance_leases l SET released_at = clock_timestamp()
    FROM model_instances i
   WHERE l.request_id = p_request_id AND l.released_at IS NULL AND i.id = l.instance_id AND i.slot_state = 'READY'
  RETURNING l.instance_id INTO released;
  IF released IS NOT NULL THEN
    UPDATE model_instances i SET idle_since = clock_timestamp()
     WHERE i.id = released
       AND NOT EXISTS (SELECT 1 FROM instance_leases l WHERE l.instance_id = released AND l.released_at IS NULL);
  END IF;
  RETURN released;
END;
$$;

-- As migration 022's, with the lease by lease_free_slot (the model's lock shared), and a row not
-- visible yet waited for rather than retried (its API transaction's lock).
CREATE OR REPLACE FUNCTION begin_warm_request(p_request_id uuid, p_workflow_id text, p_max_request_timeout_seconds integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  chosen record;
  settings jsonb;
  assigned_at timestamptz;
BEGIN
  FOR look IN 1..2 LOOP
    SELECT w.model_id, w.status, w.created_at, w.input, w.instance_id, w.error, w.webhook_url IS NOT NULL AS has_webhook,
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
    'startupTimeoutSeconds', r.startup_timeout_seconds);
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

-- As migration 022's, but the lease goes back by release_slot under the model's lock shared:
-- released false when the general path must hand it over or hear of it. The lock comes first,
-- before the request's and the rollups' rows, as the general path takes them (its release
-- writes the request's end and stats under the lock): the other order could deadlock with it.
CREATE OR REPLACE FUNCTION finish_warm_request(p_request_id uuid, p_result jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  ended record;
  timings record;
  released uuid;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtext(current_schema() || '/slots/' || w.model_id))
     FROM work_requests w WHERE w.id = p_request_id;
  UPDATE work_requests
     SET status = 'COMPLETE', result = p_result, processed_at = clock_timestamp(), finished_at = clock_timestamp()
   WHERE id = p_request_id AND status = 'PROCESSING'
  RETURNING model_id, instance_id, attempt, created_at, started_at, processed_at INTO ended;
  IF NOT FOUND THEN
    -- Ended already: by a retried call whose commit's answer was lost (COMPLETE), or by a cancel.
    RETURN jsonb_build_object('ended', false, 'status', (SELECT w.status FROM work_requests w WHERE w.id = p_request_id));
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

  WITH logged AS (
    INSERT INTO model_instance_log (instance_id, event, request_id) VALUES (ended.instance_id, 'RELEASED', p_request_id)
    RETURNING instance_id, occurred_at)
  -- An instance stopped during the call (its worker killed) stays ended: recordInstanceEvent's rule.
  UPDATE model_instances i SET status = 'RELEASED', updated_at = logged.occurred_at, assigned_request_id = NULL
    FROM logged WHERE i.id = logged.instance_id AND i.status NOT IN ('TERMINATED', 'FAILED');
  released := release_slot(p_request_id, ended.model_id);

  RETURN jsonb_build_object(
    'ended', true, 'modelId', ended.model_id,
    'timings', CASE WHEN timings IS NULL THEN NULL ELSE jsonb_build_object(
      'queueWaitSeconds', timings.queue_wait, 'processingSeconds', timings.processing, 'totalSeconds', timings.total) END,
    'released', released IS NOT NULL);
END;
$$;
