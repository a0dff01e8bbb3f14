-- Counting an owner's requests still on their way (REQUESTED or PROCESSING) at each submission,
-- for the in-flight quota, reads only these.
CREATE INDEX work_requests_open_by_owner_idx ON work_requests ((COALESCE(user_id, session_id)))
  WHERE status IN ('REQUESTED', 'PROCESSING');
