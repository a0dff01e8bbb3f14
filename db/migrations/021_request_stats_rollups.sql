-- Stats rollups (issue 20, docs/stats.md): per model and outcome, one row per UTC hour, one per
-- UTC day and one per UTC month, kept equal to request_stats by triggers in the writer's own
-- transaction. Counts,
-- sums and maxima are exact (durations in whole microseconds, as the timestamps hold them); each
-- timing's distribution is a latency sketch (domain/latency-sketch.ts): bucket index → count,
-- bucket i holding (γ^(i-1), γ^i] ms with γ = 1.01/0.99, so a percentile read from it is within
-- 1 % of the exact one. Hours give time-zone-aware buckets and range edges; days and months keep
-- long ranges to a few rows (reading a month's 1,440 hourly sketches cost more than sorting its
-- raw rows; its 60 daily ones a third of the 20 ms budget).
CREATE TABLE request_stats_rollups (
  span text NOT NULL CHECK (span IN ('hour', 'day', 'month')),
  model_id text NOT NULL,
  start timestamptz NOT NULL,
  result_success boolean NOT NULL,
  count bigint NOT NULL,
  -- attempts that got an instance: the count of queue wait and processing values
  assigned bigint NOT NULL,
  queue_wait_us_sum bigint NOT NULL,
  processing_us_sum bigint NOT NULL,
  total_us_sum bigint NOT NULL,
  queue_wait_us_max bigint,
  processing_us_max bigint,
  total_us_max bigint NOT NULL,
  queue_wait_sketch jsonb NOT NULL,
  processing_sketch jsonb NOT NULL,
  total_sketch jsonb NOT NULL,
  PRIMARY KEY (span, model_id, start, result_success)
);

-- Rows written before the rollups existed, and not rolled up yet: the stats API answers from
-- request_stats while this is set; `podium stats backfill` (or this migration, for up to 1M rows)
-- clears it.
CREATE TABLE request_stats_rollup_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  pending_through_id bigint
);
INSERT INTO request_stats_rollup_state (pending_through_id) SELECT max(id) FROM request_stats;

-- A duration's sketch bucket, as bucketIndex() in domain/latency-sketch.ts; 'zero' for ≤ 0.
CREATE FUNCTION latency_sketch_key(us bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN us > 0 THEN ceil(ln(us / 1000.0::float8) / ln(1.01::float8 / 0.99::float8))::int::text ELSE 'zero' END
$$;

-- The sketch of a set of durations (nulls left out).
CREATE FUNCTION latency_sketch(us bigint[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT COALESCE(jsonb_object_agg(key, n), '{}')
    FROM (SELECT latency_sketch_key(value) AS key, count(*) AS n
            FROM unnest(us) AS value WHERE value IS NOT NULL GROUP BY 1) AS buckets
$$;

-- The sketch with one more duration counted in (none for null).
CREATE FUNCTION latency_sketch_add(sketch jsonb, us bigint) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN us IS NULL THEN sketch
              ELSE jsonb_set(sketch, ARRAY[latency_sketch_key(us)], to_jsonb(COALESCE((sketch ->> latency_sketch_key(us))::bigint, 0) + 1)) END
$$;

-- The sum of sketches: counts added key by key.
CREATE FUNCTION latency_sketch_sum(sketches jsonb[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT COALESCE(jsonb_object_agg(key, n), '{}')
    FROM (SELECT e.key, sum(e.value::bigint) AS n FROM unnest(sketches) AS sketch, jsonb_each_text(sketch) AS e GROUP BY 1) AS buckets
$$;

-- A duration in whole microseconds, as the timestamps hold it (null when either is).
CREATE FUNCTION request_stats_us(later timestamptz, earlier timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (extract(epoch FROM later - earlier) * 1000000)::bigint
$$;

-- The hour and day rollup rows of a set of stats rows.
CREATE FUNCTION request_stats_rollup_rows(stats request_stats[])
RETURNS SETOF request_stats_rollups
LANGUAGE sql STABLE AS $$
  WITH timed AS (
    SELECT s.model_id, s.result_success, s.request_timestamp,
           request_stats_us(s.pod_ready_timestamp, s.request_timestamp) AS queue_wait,
           request_stats_us(s.processed_timestamp, s.pod_ready_timestamp) AS processing,
           request_stats_us(s.processed_timestamp, s.request_timestamp) AS total
      FROM unnest(stats) AS s
  )
  SELECT spans.span, t.model_id, date_trunc(spans.span, t.request_timestamp, 'UTC'), t.result_success,
         count(*), count(t.queue_wait),
         COALESCE(sum(t.queue_wait), 0), COALESCE(sum(t.processing), 0), sum(t.total),
         max(t.queue_wait), max(t.processing), max(t.total),
         latency_sketch(array_agg(t.queue_wait)), latency_sketch(array_agg(t.processing)), latency_sketch(array_agg(t.total))
    FROM timed AS t CROSS JOIN (VALUES ('hour'), ('day')) AS spans (span)
   GROUP BY 1, 2, 3, 4
$$;

-- Rebuilds the hour and day rollups of whole UTC days from request_stats. Locks the rollups
-- against the insert trigger until commit, so no increment is lost between reading the rows and
-- replacing their rollups.
CREATE FUNCTION request_stats_rollups_rebuild_days(days timestamptz[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  LOCK TABLE request_stats_rollups IN SHARE ROW EXCLUSIVE MODE;
  DELETE FROM request_stats_rollups AS r USING unnest(days) AS day
   WHERE r.span IN ('hour', 'day') AND r.start >= day AND r.start < day + interval '24 hours';
  INSERT INTO request_stats_rollups
  SELECT * FROM request_stats_rollup_rows(ARRAY(
    SELECT s FROM request_stats AS s
      JOIN unnest(days) AS day ON s.request_timestamp >= day AND s.request_timestamp < day + interval '24 hours'));
END
$$;

-- Rebuilds the month rollups of UTC months from their day rows.
CREATE FUNCTION request_stats_rollups_rebuild_months(months timestamptz[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  LOCK TABLE request_stats_rollups IN SHARE ROW EXCLUSIVE MODE;
  DELETE FROM request_stats_rollups WHERE span = 'month' AND start = ANY (months);
  INSERT INTO request_stats_rollups
  SELECT 'month', model_id, date_trunc('month', start, 'UTC'), result_success,
         sum(count), sum(assigned), sum(queue_wait_us_sum), sum(processing_us_sum), sum(total_us_sum),
         max(queue_wait_us_max), max(processing_us_max), max(total_us_max),
         latency_sketch_sum(array_agg(queue_wait_sketch)), latency_sketch_sum(array_agg(processing_sketch)), latency_sketch_sum(array_agg(total_sketch))
    FROM request_stats_rollups
   WHERE span = 'day' AND date_trunc('month', start, 'UTC') = ANY (months)
   GROUP BY 1, 2, 3, 4;
END
$$;

-- What a deletion or an update does: the days its rows were in rebuilt from the rows, their
-- months from the days (a maximum cannot be taken back; a day is a few thousand rows to read).
CREATE FUNCTION request_stats_rollups_rebuild(days timestamptz[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM request_stats_rollups_rebuild_days(days);
  PERFORM request_stats_rollups_rebuild_months(ARRAY(SELECT DISTINCT date_trunc('month', day, 'UTC') FROM unnest(days) AS day));
END
$$;

-- Each new row counted into its hour, day and month: a row-level trigger, as the request path writes
-- one row per statement (a statement-level one with a transition table cost twice as much).
CREATE FUNCTION request_stats_rollups_insert() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  queue_wait bigint := request_stats_us(NEW.pod_ready_timestamp, NEW.request_timestamp);
  processing bigint := request_stats_us(NEW.processed_timestamp, NEW.pod_ready_timestamp);
  total bigint := request_stats_us(NEW.processed_timestamp, NEW.request_timestamp);
  width text;
BEGIN
  FOREACH width IN ARRAY ARRAY['hour', 'day', 'month'] LOOP
    INSERT INTO request_stats_rollups AS r
    VALUES (width, NEW.model_id, date_trunc(width, NEW.request_timestamp, 'UTC'), NEW.result_success,
            1, (queue_wait IS NOT NULL)::int, COALESCE(queue_wait, 0), COALESCE(processing, 0), total, queue_wait, processing, total,
            latency_sketch_add('{}', queue_wait), latency_sketch_add('{}', processing), latency_sketch_add('{}', total))
    ON CONFLICT (span, model_id, start, result_success) DO UPDATE SET
      count = r.count + 1,
      assigned = r.assigned + excluded.assigned,
      queue_wait_us_sum = r.queue_wait_us_sum + excluded.queue_wait_us_sum,
      processing_us_sum = r.processing_us_sum + excluded.processing_us_sum,
      total_us_sum = r.total_us_sum + excluded.total_us_sum,
      queue_wait_us_max = GREATEST(r.queue_wait_us_max, excluded.queue_wait_us_max),
      processing_us_max = GREATEST(r.processing_us_max, excluded.processing_us_max),
      total_us_max = GREATEST(r.total_us_max, excluded.total_us_max),
      queue_wait_sketch = latency_sketch_add(r.queue_wait_sketch, queue_wait),
      processing_sketch = latency_sketch_add(r.processing_sketch, processing),
      total_sketch = latency_sketch_add(r.total_sketch, total);
  END LOOP;
  RETURN NULL;
END
$$;

-- Deletions and updates rebuild the UTC days their rows were in (before and after).
CREATE FUNCTION request_stats_rollups_change() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM request_stats_rollups_rebuild(ARRAY(SELECT DISTINCT date_trunc('day', request_timestamp, 'UTC') FROM old_rows));
  ELSE
    PERFORM request_stats_rollups_rebuild(ARRAY(
      SELECT date_trunc('day', request_timestamp, 'UTC') FROM old_rows
       UNION SELECT date_trunc('day', request_timestamp, 'UTC') FROM new_rows));
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION request_stats_rollups_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  TRUNCATE request_stats_rollups;
  UPDATE request_stats_rollup_state SET pending_through_id = NULL;
  RETURN NULL;
END
$$;

CREATE TRIGGER request_stats_rollups_insert AFTER INSERT ON request_stats
  FOR EACH ROW EXECUTE FUNCTION request_stats_rollups_insert();
CREATE TRIGGER request_stats_rollups_delete AFTER DELETE ON request_stats
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION request_stats_rollups_change();
CREATE TRIGGER request_stats_rollups_update AFTER UPDATE ON request_stats
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION request_stats_rollups_change();
CREATE TRIGGER request_stats_rollups_truncate AFTER TRUNCATE ON request_stats
  FOR EACH STATEMENT EXECUTE FUNCTION request_stats_rollups_truncate();

-- An installation with up to a million stats rows is rolled up here and now; a bigger one runs
-- `npm run podium -- stats backfill`, and its stats are read from the rows until then.
DO $$
DECLARE
  day timestamptz;
BEGIN
  IF (SELECT count(*) FROM (SELECT 1 FROM request_stats LIMIT 1000001) AS capped) <= 1000000 THEN
    FOR day IN SELECT DISTINCT date_trunc('day', request_timestamp, 'UTC') FROM request_stats LOOP
      PERFORM request_stats_rollups_rebuild_days(ARRAY[day]);
    END LOOP;
    PERFORM request_stats_rollups_rebuild_months(ARRAY(SELECT DISTINCT date_trunc('month', request_timestamp, 'UTC') FROM request_stats));
    UPDATE request_stats_rollup_state SET pending_through_id = NULL;
  END IF;
END
$$;
