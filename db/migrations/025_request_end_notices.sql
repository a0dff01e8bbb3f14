-- A request's end is announced as it commits (issue 30): every API process LISTENs, and a
-- client's long poll (GET /api/requests/:id?wait) answers then, instead of after the workflow's
-- next task reaches Temporal and Temporal's history long poll answers (~9 ms later, measured).
-- One trigger covers every way a request ends: the warm finish, the general path, an admin's
-- or operator's status, a cancel. The payload names the schema, as the other channels' do.

CREATE FUNCTION announce_request_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('podium_request_ends', json_build_object('schema', TG_TABLE_SCHEMA, 'requestId', NEW.id)::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER work_requests_end_announced
  AFTER UPDATE OF status ON work_requests
  FOR EACH ROW
  WHEN (NEW.status IN ('COMPLETE', 'FAILED', 'CANCELLED') AND OLD.status NOT IN ('COMPLETE', 'FAILED', 'CANCELLED'))
  EXECUTE FUNCTION announce_request_end();
