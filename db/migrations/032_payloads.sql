-- Payloads (issue 34): tensors kept as bytes, not JSON numbers, up to PAYLOAD_LIMIT. A payload is
-- an upload (POST /api/payloads) until a request names it, then that request's input; or a
-- tensor of a request's input or result. Its bytes live in its store: PostgreSQL (rows of
-- payload_chunks) or an S3-compatible bucket ('s3://bucket/prefix').
CREATE TABLE payloads (
  id uuid PRIMARY KEY,
  -- COALESCE(user_id, session_id) of whoever uploaded it or owns its request.
  owner_id uuid NOT NULL,
  request_id uuid REFERENCES work_requests (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('upload', 'input', 'result')),
  store text NOT NULL,
  -- Set when its bytes are all written; until then nothing reads it, and the retention job
  -- deletes one left incomplete (an upload cut halfway, a worker that died writing).
  size bigint CHECK (size >= 0),
  -- Hex SHA-256 of its bytes: a retried submission (the same Idempotency-Key) carries the same bytes.
  sha256 text,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((role = 'upload') = (request_id IS NULL))
);
CREATE INDEX payloads_request ON payloads (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX payloads_unnamed ON payloads (created_at) WHERE request_id IS NULL OR size IS NULL;

-- The embedded store: a payload's bytes in order, a chunk a row.
CREATE TABLE payload_chunks (
  payload_id uuid NOT NULL REFERENCES payloads (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (payload_id, seq)
);
ALTER TABLE payload_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- Models whose server takes OIP's binary tensor data extension (Triton, KServe's Python server,
-- Podium's echo) get payload tensors in binary; the rest get JSON, converted.
ALTER TABLE models ADD COLUMN binary_tensors boolean NOT NULL DEFAULT false;
UPDATE models SET binary_tensors = true WHERE id = 'echo' OR runtime IN ('triton', 'kserve');
