-- Stats queries (db/stats.ts) filter by model and request time and read the outcome and the
-- three timestamps. This covering index lets "a month of one model" be an index-only scan;
-- the EXPLAIN on 10M rows is printed by test/bench/stats.ts.
CREATE INDEX request_stats_model_request_idx ON request_stats (model_id, request_timestamp)
  INCLUDE (result_success, pod_ready_timestamp, processed_timestamp);
-- Raw pages across all models, newest first, keyset (request_timestamp, id); date-only filters.
CREATE INDEX request_stats_request_idx ON request_stats (request_timestamp, id);
-- Nothing filters on processed time; the stats queries above replace its only intended use.
DROP INDEX request_stats_model_processed_idx;
