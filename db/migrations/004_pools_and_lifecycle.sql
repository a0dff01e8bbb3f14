-- Instances now serve many requests in turn: the request they serve now.
ALTER TABLE model_instances ADD COLUMN assigned_request_id uuid;

-- Requests: idempotent submission per owner, optional completion webhook.
ALTER TABLE work_requests ADD COLUMN idempotency_key text;
ALTER TABLE work_requests ADD COLUMN webhook_url text;
CREATE UNIQUE INDEX work_requests_idempotency_idx
  ON work_requests (COALESCE(user_id, session_id), idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX work_requests_created_idx ON work_requests (created_at);

-- Every attempt to deliver a request's webhook.
CREATE TABLE webhook_deliveries (
  id bigserial PRIMARY KEY,
  request_id uuid NOT NULL REFERENCES work_requests (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  url text NOT NULL,
  status_code integer,
  error text,
  attempted_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX webhook_deliveries_request_idx ON webhook_deliveries (request_id, id);

-- Who did what to whom: status changes, sensitive-data views, instance stops.
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  action text NOT NULL,
  target_type text NOT NULL,
  target_id text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, created_at);

-- The demo models keep an instance warm for a minute and may run two at once.
UPDATE models SET keep_warm_seconds = 60, max_instances = 2 WHERE id IN ('echo', 'sentiment');
