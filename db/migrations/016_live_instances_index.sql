-- The metrics scrape counts live instances per model and state (api/http-metrics.ts): read
-- from the few live rows, not the table of every instance kept for history.
CREATE INDEX model_instances_live_idx ON model_instances (model_id, status) WHERE status <> 'TERMINATED';
