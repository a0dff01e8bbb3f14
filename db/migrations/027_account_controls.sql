-- An admin can disable an account (issue 31): it cannot sign in, and its sessions end with it.
-- The row stays, with its requests and stats; enabling it again lets it sign in.

ALTER TABLE users ADD COLUMN disabled_at timestamptz;
ALTER TABLE users ADD COLUMN disabled_reason text;
