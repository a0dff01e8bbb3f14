-- An instance being replaced (issue 19): it takes no new request, those it serves finish, a
-- replacement is started for it, and it stops once it serves none (domain/pool-plan.ts).
ALTER TABLE model_instances DROP CONSTRAINT model_instances_slot_state_check;
ALTER TABLE model_instances ADD CONSTRAINT model_instances_slot_state_check
  CHECK (slot_state IN ('STARTING', 'READY', 'DRAINING', 'UNHEALTHY', 'STOPPING'));
