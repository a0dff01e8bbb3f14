-- A deleted model drains (issue 16): it leaves the catalog at once (new requests get
-- UNKNOWN_MODEL), while the requests it already has finish on its pool, which keeps no instance
-- warm any more. Its rows stay, because requests and stats name it; registering the id again
-- brings it back.
ALTER TABLE models ADD COLUMN deleted_at timestamptz;

-- What a deletion leaves to finish, counted without reading the table.
CREATE INDEX work_requests_open_by_model_idx ON work_requests (model_id, status) WHERE status IN ('REQUESTED', 'PROCESSING');
