-- Weights in a model's line (issue 35). A user's weight (1 to 10; an admin's audited grant, 1
-- unless set) is how many turns they take for one of a weight-1 owner's: each of their waiting
-- requests' tags is 2520 / weight past the one before (2520 is divisible by every weight up to
-- 10, so steps stay whole). Anonymous clients weigh 1. Tags given before this migration stepped
-- by 1: those requests are served first, as they were there first.
ALTER TABLE users ADD COLUMN queue_weight smallint NOT NULL DEFAULT 1 CHECK (queue_weight BETWEEN 1 AND 10);
