-- Streaming figures in the stats (issue 33): when a request's first token came, and how many
-- tokens it took and gave (an OpenAI answer's usage). A stats row is written by two statements
-- (finish_warm_request and recordRequestStats); a trigger fills these from the request as the
-- row goes in, so both get them. The rollups carry their sums, maxima and a first-token sketch.

ALTER TABLE request_stats
  ADD COLUMN first_token_timestamp timestamptz,
  ADD COLUMN tokens_in bigint,
  ADD COLUMN tokens_out bigint;

-- A token count as the model gave it, when it is one: usage is kept as the model answered.
CREATE FUNCTION request_stats_token_count(value jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN jsonb_typeof(value) = 'number' AND (value #>> '{}')::numeric BETWEEN 0 AND 1e15
              THEN (value #>> '{}')::numeric::bigint END
$$;

CREATE FUNCTION request_stats_stream_figures() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  usage jsonb;
BEGIN
  SELECT r.result -> 'usage' INTO usage FROM work_requests r WHERE r.id = NEW.request_id;
  NEW.tokens_in := request_stats_token_count(usage -> 'prompt_tokens');
  NEW.tokens_out := request_stats_token_count(usage -> 'completion_tokens');
  SELECT min(c.created_at) INTO NEW.first_token_timestamp
    FROM request_chunks c WHERE c.request_id = NEW.request_id AND c.kind = 'text';
  RETURN NEW;
END
$$;

CREATE TRIGGER request_stats_stream_figures BEFORE INSERT ON request_stats
  FOR EACH ROW EXECUTE FUNCTION request_stats_stream_figures();

ALTER TABLE request_stats_rollups
  -- attempts whose output came as a stream: how many first-token values there are
  ADD COLUMN first_token_count bigint NOT NULL DEFAULT 0,
  ADD COLUMN first_token_us_sum bigint NOT NULL DEFAULT 0,
  ADD COLUMN first_token_us_max bigint,
  ADD COLUMN first_token_sketch jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN tokens_in_sum bigint NOT NULL DEFAULT 0,
  ADD COLUMN tokens_out_sum bigint NOT NULL DEFAULT 0,
  -- tokens per second: the tokens of streamed attempts over the time from their first token to their end
  ADD COLUMN streamed_tokens_out_sum bigint NOT NULL DEFAULT 0,
  ADD COLUMN generation_us_sum bigint NOT NULL DEFAULT 0;

-- As migration 024's, with the streaming figures.
CREATE OR REPLACE FUNCTION request_stats_rollup_rows(stats request_stats[])
RETURNS SETOF request_stats_rollups
LANGUAGE sql STABLE AS $$
  WITH timed AS (
    SELECT s.model_id, s.result_success, s.request_timestamp,
           request_stats_us(s.pod_ready_timestamp, s.request_timestamp) AS queue_wait,
           request_stats_us(s.processed_timestamp, s.pod_ready_timestamp) AS processing,
           request_stats_us(s.processed_timestamp, s.request_timestamp) AS total,
           request_stats_us(s.first_token_timestamp, s.request_timestamp) AS first_token,
           s.tokens_in, s.tokens_out,
           CASE WHEN s.tokens_out IS NOT NULL THEN request_stats_us(s.processed_timestamp, s.first_token_timestamp) END AS generation
      FROM unnest(stats) AS s
  )
  SELECT spans.span, t.model_id, date_trunc(spans.span, t.request_timestamp, 'UTC'), t.result_success,
         count(*), count(t.queue_wait),
         COALESCE(sum(t.queue_wait), 0), COALESCE(sum(t.processing), 0), sum(t.total),
         max(t.queue_wait), max(t.processing), max(t.total),
         latency_sketch(array_agg(t.queue_wait)), latency_sketch(array_agg(t.processing)), latency_sketch(array_agg(t.total)),
         0::smallint,
         count(t.first_token), COALESCE(sum(t.first_token), 0), max(t.first_token), latency_sketch(array_agg(t.first_token)),
         COALESCE(sum(t.tokens_in), 0), COALESCE(sum(t.tokens_out), 0),
         COALESCE(sum(t.tokens_out) FILTER (WHERE t.generation IS NOT NULL), 0), COALESCE(sum(t.generation), 0)
    FROM timed AS t CROSS JOIN (VALUES ('hour'), ('day')) AS spans (span)
   GROUP BY 1, 2, 3, 4
$$;

-- As migration 021's, with the stripe (0) and the streaming figures.
CREATE OR REPLACE FUNCTION request_stats_rollups_rebuild_months(months timestamptz[]) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  LOCK TABLE request_stats_rollups IN SHARE ROW EXCLUSIVE MODE;
  DELETE FROM request_stats_rollups WHERE span = 'month' AND start = ANY (months);
  INSERT INTO request_stats_rollups
  SELECT 'month', model_id, date_trunc('month', start, 'UTC'), result_success,
         sum(count), sum(assigned), sum(queue_wait_us_sum), sum(processing_us_sum), sum(total_us_sum),
         max(queue_wait_us_max), max(processing_us_max), max(total_us_max),
         latency_sketch_sum(array_agg(queue_wait_sketch)), latency_sketch_sum(array_agg(processing_sketch)), latency_sketch_sum(array_agg(total_sketch)),
         0::smallint,
         sum(first_token_count), sum(first_token_us_sum), max(first_token_us_max), latency_sketch_sum(array_agg(first_token_sketch)),
         sum(tokens_in_sum), sum(tokens_out_sum), sum(streamed_tokens_out_sum), sum(generation_us_sum)
    FROM request_stats_rollups
   WHERE span = 'day' AND date_trunc('month', start, 'UTC') = ANY (months)
   GROUP BY 1, 2, 3, 4;
END
$$;

-- As migration 024's, with the streaming figures.
CREATE OR REPLACE FUNCTION request_stats_rollups_insert() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  queue_wait bigint := request_stats_us(NEW.pod_ready_timestamp, NEW.request_timestamp);
  processing bigint := request_stats_us(NEW.processed_timestamp, NEW.pod_ready_timestamp);
  total bigint := request_stats_us(NEW.processed_timestamp, NEW.request_timestamp);
  first_token bigint := request_stats_us(NEW.first_token_timestamp, NEW.request_timestamp);
  generation bigint := CASE WHEN NEW.tokens_out IS NOT NULL
                            THEN request_stats_us(NEW.processed_timestamp, NEW.first_token_timestamp) END;
  writer_stripe smallint := pg_backend_pid() % 8;
  width text;
BEGIN
  FOREACH width IN ARRAY ARRAY['hour', 'day', 'month'] LOOP
    INSERT INTO request_stats_rollups AS r
    VALUES (width, NEW.model_id, date_trunc(width, NEW.request_timestamp, 'UTC'), NEW.result_success,
            1, (queue_wait IS NOT NULL)::int, COALESCE(queue_wait, 0), COALESCE(processing, 0), total, queue_wait, processing, total,
            latency_sketch_add('{}', queue_wait), latency_sketch_add('{}', processing), latency_sketch_add('{}', total), writer_stripe,
            (first_token IS NOT NULL)::int, COALESCE(first_token, 0), first_token, latency_sketch_add('{}', first_token),
            COALESCE(NEW.tokens_in, 0), COALESCE(NEW.tokens_out, 0),
            CASE WHEN generation IS NOT NULL THEN NEW.tokens_out ELSE 0 END, COALESCE(generation, 0))
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
      total_sketch = latency_sketch_add(r.total_sketch, total),
      first_token_count = r.first_token_count + excluded.first_token_count,
      first_token_us_sum = r.first_token_us_sum + excluded.first_token_us_sum,
      first_token_us_max = GREATEST(r.first_token_us_max, excluded.first_token_us_max),
      first_token_sketch = latency_sketch_add(r.first_token_sketch, first_token),
      tokens_in_sum = r.tokens_in_sum + excluded.tokens_in_sum,
      tokens_out_sum = r.tokens_out_sum + excluded.tokens_out_sum,
      streamed_tokens_out_sum = r.streamed_tokens_out_sum + excluded.streamed_tokens_out_sum,
      generation_us_sum = r.generation_us_sum + excluded.generation_us_sum;
  END LOOP;
  RETURN NULL;
END
$$;
