-- The node autoscaler's decisions (plan + reasons + what was done), for the admin pages.
-- Rounds that neither acted nor had pending pods are not recorded.
CREATE TABLE autoscaler_decisions (
  id bigserial PRIMARY KEY,
  decision_id text NOT NULL UNIQUE,
  decided_at timestamptz NOT NULL,
  acted_at timestamptz,
  pending_pods integer NOT NULL,
  nodes integer NOT NULL,
  actions jsonb NOT NULL,
  reasons jsonb NOT NULL,
  results jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX autoscaler_decisions_decided_idx ON autoscaler_decisions (decided_at DESC);
