-- Fair share among owners within a model (issue 35). Each waiting request carries a virtual
-- start tag: one past the larger of the model's served clock (the tag of the last request
-- served from the line) and its owner's last tag. The line is served by priority, then tag, then
-- submission: while one owner has many waiting, another's next request goes after at most one
-- of theirs, whatever their numbers (start-time fair queueing, equal weights).
ALTER TABLE slot_waiters ADD COLUMN owner_key text NOT NULL DEFAULT '';
ALTER TABLE slot_waiters ADD COLUMN fair_tag bigint NOT NULL DEFAULT 0;
ALTER TABLE instance_leases ADD COLUMN fair_tag bigint;
DROP INDEX slot_waiters_queue_idx;
CREATE INDEX slot_waiters_queue_idx ON slot_waiters (model_id, priority, fair_tag, requested_at, request_id);

-- The tag of the last request a model served from its line.
CREATE TABLE queue_clocks (
  model_id text PRIMARY KEY,
  served bigint NOT NULL
);
-- Each owner's last tag in a model's line; a row the clock has passed says nothing, and goes.
CREATE TABLE queue_owner_tags (
  model_id text NOT NULL,
  owner_key text NOT NULL,
  last bigint NOT NULL,
  PRIMARY KEY (model_id, owner_key)
);

-- The client an anonymous session was opened from (domain/client-address.ts: an IPv6 address
-- by its /64): anonymous sessions from one client share one owner's place in a line.
ALTER TABLE sessions ADD COLUMN client_key text;
