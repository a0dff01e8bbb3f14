-- PENDING: a pod that is not ready yet and says why (Unschedulable, ImagePullBackOff, …), with
-- the reason and message in `detail`. Logged each time the reason changes.
ALTER TABLE model_instance_log DROP CONSTRAINT model_instance_log_event_check;
ALTER TABLE model_instance_log ADD CONSTRAINT model_instance_log_event_check
  CHECK (event IN ('CREATED', 'SCHEDULED', 'PENDING', 'READY', 'ASSIGNED', 'RELEASED', 'STOPPING', 'TERMINATED', 'FAILED'));
