-- Accounts. Usernames and emails are unique case-insensitively; what the user typed is kept.
CREATE TABLE users (
  id uuid PRIMARY KEY,
  username text NOT NULL,
  email text NOT NULL,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE user_permissions (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  permission text NOT NULL CHECK (permission IN ('ADMIN')),
  granted_at timestamptz NOT NULL DEFAULT now(),
  granted_by text NOT NULL,
  PRIMARY KEY (user_id, permission)
);

-- A session is an anonymous session or a signed-in user's session family: every access and
-- refresh token issued by login and its refreshes. Revoking it ends them all.
ALTER TABLE sessions DROP CONSTRAINT sessions_kind_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_kind_check CHECK (kind IN ('anonymous', 'user'));
ALTER TABLE sessions ADD COLUMN user_id uuid REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE sessions ADD COLUMN revoked_reason text;
ALTER TABLE sessions ADD CONSTRAINT sessions_user_check CHECK ((kind = 'user') = (user_id IS NOT NULL));
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE user_id IS NOT NULL;

-- Tokens are stored only as SHA-256 hashes. An anonymous session has one long-lived access
-- token; a user session has short-lived access tokens and single-use refresh tokens.
CREATE TABLE session_tokens (
  token_hash bytea PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('access', 'refresh')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  consumed_at timestamptz
);
CREATE INDEX session_tokens_session_idx ON session_tokens (session_id);

INSERT INTO session_tokens (token_hash, session_id, kind, created_at, expires_at)
SELECT token_hash, id, 'access', created_at, expires_at FROM sessions;
ALTER TABLE sessions DROP COLUMN token_hash;

-- A signed-in user's requests belong to the user, across sessions.
ALTER TABLE work_requests ADD COLUMN user_id uuid REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX work_requests_user_created_idx ON work_requests (user_id, created_at DESC) WHERE user_id IS NOT NULL;

-- Failed sign-in counters, in the layout rate-limiter-flexible's RateLimiterPostgres uses.
CREATE TABLE login_rate_limits (
  key varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
