-- Each owner's own webhook signing secrets (issue 31): a signed-in user's, or an anonymous
-- session's. One is current; one that was replaced keeps signing beside the new one until its
-- expires_at, so receivers can move to the new secret without missing a delivery. Owners who
-- never made one get deliveries signed with WEBHOOK_SECRET, as before.
-- The secrets are stored as they are: the worker needs them to sign. They are as safe as the
-- database, which holds the requests' inputs and results too.

CREATE TABLE webhook_secrets (
  id uuid PRIMARY KEY,
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  session_id uuid REFERENCES sessions (id) ON DELETE CASCADE,
  secret text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  expires_at timestamptz,
  CHECK ((user_id IS NULL) <> (session_id IS NULL))
);
CREATE UNIQUE INDEX webhook_secrets_one_current ON webhook_secrets (COALESCE(user_id, session_id)) WHERE expires_at IS NULL;
CREATE INDEX webhook_secrets_owner_idx ON webhook_secrets (COALESCE(user_id, session_id), created_at DESC);
