-- The model catalog: how each model runs and behaves.
CREATE TABLE models (
  id text PRIMARY KEY,
  display_name text NOT NULL,
  description text NOT NULL,
  protocol text NOT NULL DEFAULT 'oip-v2' CHECK (protocol IN ('oip-v2')),
  local_command text[] NOT NULL,
  container_image text NOT NULL,
  container_port integer NOT NULL DEFAULT 8080,
  resources jsonb NOT NULL DEFAULT '{}',
  min_instances integer NOT NULL DEFAULT 0 CHECK (min_instances >= 0),
  max_instances integer NOT NULL DEFAULT 1 CHECK (max_instances >= 1),
  keep_warm_seconds integer NOT NULL DEFAULT 0 CHECK (keep_warm_seconds >= 0),
  startup_timeout_seconds integer NOT NULL DEFAULT 30 CHECK (startup_timeout_seconds > 0),
  request_timeout_seconds integer NOT NULL DEFAULT 60 CHECK (request_timeout_seconds > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (min_instances <= max_instances)
);

-- Sessions hold only a SHA-256 hash of their bearer token.
CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('anonymous')),
  token_hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);

-- input and result are the sensitive data: they live here and never in workflow history.
CREATE TABLE work_requests (
  id uuid PRIMARY KEY,
  model_id text NOT NULL REFERENCES models (id),
  session_id uuid NOT NULL REFERENCES sessions (id),
  status text NOT NULL DEFAULT 'REQUESTED'
    CHECK (status IN ('REQUESTED', 'PROCESSING', 'COMPLETE', 'FAILED', 'CANCELLED')),
  attempt integer NOT NULL DEFAULT 1,
  input jsonb NOT NULL,
  result jsonb,
  error jsonb,
  workflow_id text NOT NULL UNIQUE,
  instance_id uuid,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  started_at timestamptz,
  processed_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX work_requests_session_created_idx ON work_requests (session_id, created_at DESC);

-- One row per model instance (a pod on Kubernetes, a child process locally).
CREATE TABLE model_instances (
  id uuid PRIMARY KEY,
  model_id text NOT NULL REFERENCES models (id),
  runtime text NOT NULL CHECK (runtime IN ('local', 'kubernetes')),
  runtime_ref text,
  endpoint text,
  annotations jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Every transition of an instance; READY is the source of request_stats.pod_ready_timestamp.
CREATE TABLE model_instance_log (
  id bigserial PRIMARY KEY,
  instance_id uuid NOT NULL REFERENCES model_instances (id) ON DELETE CASCADE,
  event text NOT NULL
    CHECK (event IN ('CREATED', 'SCHEDULED', 'READY', 'ASSIGNED', 'RELEASED', 'STOPPING', 'TERMINATED', 'FAILED')),
  request_id uuid,
  detail jsonb NOT NULL DEFAULT '{}',
  occurred_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX model_instance_log_instance_idx ON model_instance_log (instance_id, occurred_at);

-- One row per finished request attempt. No foreign key to work_requests: stats outlive the
-- 7-day request retention.
CREATE TABLE request_stats (
  id bigserial PRIMARY KEY,
  model_id text NOT NULL,
  request_id uuid NOT NULL,
  attempt integer NOT NULL,
  result_success boolean NOT NULL,
  request_timestamp timestamptz NOT NULL,
  pod_ready_timestamp timestamptz,
  processed_timestamp timestamptz NOT NULL,
  UNIQUE (request_id, attempt)
);
CREATE INDEX request_stats_model_processed_idx ON request_stats (model_id, processed_timestamp);
