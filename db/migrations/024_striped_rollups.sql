-- Striped stats rollups (issue 30): every finish of one model's requests updated the same hour,
-- day and month rows, so finishes that ran side by side queued on those rows' locks (the warm
-- path measured ~235 a second with them, ~520 without: docs/architecture.md "Slots"). Now each
-- (span, model, start, outcome) has up to 8 stripes; a writer updates the stripe of its database
-- backend, so two finishes meet on a row only when their backends share a stripe, and one
-- backend never waits for itself. Readers already sum the rows they read (db/stats-rollups.ts):
-- a period's stripes add up as its hours do. Rebuilds write stripe 0.

ALTER TABLE request_stats_rollups ADD COLUMN stripe smallint NOT NULL DEFAULT 0 CHECK (stripe BETWEEN 0 AND 7);
ALTER TABLE request_stats_rollups DROP CONSTRAINT request_stats_rollups_pkey;
ALTER TABLE request_stats_rollups ADD PRIMARY KEY (span, model_id, start, result_success, stripe);

-- As migration 021's, with the stripe (0) the table's rows now end with.
CREATE OR REPLACE FUNCTION request_stats_rollup_rows(stats request_stats[])
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
         latency_sketch(array_agg(t.queue_wait)), latency_sketch(array_agg(t.processing)), latency_sketch(array_agg(t.total)),
         0::smallint
    FROM timed AS t CROSS JOIN (VALUES ('hour'), ('day')) AS spans (span)
   GROUP BY 1, 2, 3, 4
$$;

-- As migration 021's, into the writer's stripe.
CREATE OR REPLACE FUNCTION request_stats_rollups_insert() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  queue_wait bigint := request_stats_us(NEW.pod_ready_timestamp, NEW.request_timestamp);
  processing bigint := request_stats_us(NEW.processed_timestamp, NEW.pod_ready_timestamp);
  total bigint := request_stats_us(NEW.processed_timestamp, NEW.request_timestamp);
  writer_stripe smallint := pg_backend_pid() % 8;
  width text;
BEGIN
  FOREACH width IN ARRAY ARRAY['hour', 'day', 'month'] LOOP
    INSERT INTO request_stats_rollups AS r
    VALUES (width, NEW.model_id, date_trunc(width, NEW.request_timestamp, 'UTC'), NEW.result_success,
            1, (queue_wait IS NOT NULL)::int, COALESCE(queue_wait, 0), COALESCE(processing, 0), total, queue_wait, processing, total,
            latency_sketch_add('{}', queue_wait), latency_sketch_add('{}', processing), latency_sketch_add('{}', total), writer_stripe)
    ON CONFLICT (span, model_id, start, result_success, stripe) DO UPDATE SET
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
