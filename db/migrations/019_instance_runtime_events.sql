-- The runtime's own events about each instance (the Kubernetes Events of its pod), kept with the
-- instance so that its history page still shows them once the pod, and its Events, are gone
-- (issue 19). The workers record them as they see them (infra/runtime-reporter.ts); at most 50
-- per instance, the latest.
CREATE TABLE instance_runtime_events (
  instance_id uuid NOT NULL REFERENCES model_instances (id) ON DELETE CASCADE,
  event_uid   text NOT NULL,
  type        text NOT NULL,
  reason      text NOT NULL,
  message     text NOT NULL,
  source      text,
  count       integer NOT NULL CHECK (count >= 1),
  first_at    timestamptz NOT NULL,
  last_at     timestamptz NOT NULL,
  -- The order the workers first saw them in: Kubernetes gives most events' times to the second.
  seen        bigserial NOT NULL,
  PRIMARY KEY (instance_id, event_uid)
);
