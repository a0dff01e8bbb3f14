-- The request path's view of a model's instances (issue 13): requests lease a slot of a ready
-- instance here, in their own workflow, instead of asking the model's pool workflow. Every change
-- to a model's slots, leases and waiters happens under that model's advisory lock
-- (db/instance-slots.ts), which is what keeps the queue first-come-first-served.

-- Where an instance stands for the request path; NULL once it has left the pool (or for rows
-- written before this migration).
ALTER TABLE model_instances ADD COLUMN slot_state text
  CHECK (slot_state IN ('STARTING', 'READY', 'UNHEALTHY', 'STOPPING'));
-- Since when a READY instance has had no lease (keep-warm counts from here); NULL while busy.
ALTER TABLE model_instances ADD COLUMN idle_since timestamptz;
CREATE INDEX model_instances_slots_idx ON model_instances (model_id) WHERE slot_state IS NOT NULL;

-- One row per slot a request was given: at most the model's max_concurrency unreleased per
-- instance. Released rows stay (with the request, until retention deletes it): they are the
-- record of who got which slot when, from which the queue's order can be checked exactly.
-- No foreign key to work_requests: a lease is taken before the API's row may be visible.
CREATE TABLE instance_leases (
  id bigserial PRIMARY KEY,
  request_id uuid NOT NULL,
  instance_id uuid NOT NULL REFERENCES model_instances (id) ON DELETE CASCADE,
  model_id text NOT NULL,
  workflow_id text NOT NULL,
  requested_at timestamptz NOT NULL,
  -- When the request started waiting for this slot; NULL when a free slot was there at once.
  queued_at timestamptz,
  leased_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  released_at timestamptz
);
CREATE UNIQUE INDEX instance_leases_held_idx ON instance_leases (request_id) WHERE released_at IS NULL;
CREATE INDEX instance_leases_instance_idx ON instance_leases (instance_id) WHERE released_at IS NULL;
CREATE INDEX instance_leases_request_idx ON instance_leases (request_id);

-- Requests waiting for a slot, served in submission order.
CREATE TABLE slot_waiters (
  request_id uuid PRIMARY KEY,
  model_id text NOT NULL,
  workflow_id text NOT NULL,
  requested_at timestamptz NOT NULL,
  queued_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX slot_waiters_queue_idx ON slot_waiters (model_id, requested_at, request_id);

-- A request has asked the model's pool for another instance and the pool has not run a round
-- since: later requests need not ask again (one wake-up signal per round, not per request).
CREATE TABLE pool_wake_requests (
  model_id text PRIMARY KEY,
  requested_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
