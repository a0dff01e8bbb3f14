-- Registering a model runs its command on the worker host or its image in the cluster, so it
-- is its own permission (issue 31): ADMIN views and runs the platform, MODEL_ADMIN changes what
-- code it runs. The first admin, created from PODIUM_ADMIN_USERNAME, is the operator and keeps
-- the catalog; every other ADMIN needs MODEL_ADMIN granted (`podium users grant`), audited.

ALTER TABLE user_permissions DROP CONSTRAINT user_permissions_permission_check;
ALTER TABLE user_permissions ADD CONSTRAINT user_permissions_permission_check CHECK (permission IN ('ADMIN', 'MODEL_ADMIN'));

WITH granted AS (
  INSERT INTO user_permissions (user_id, permission, granted_by)
  SELECT user_id, 'MODEL_ADMIN', 'migration:026_model_admin'
    FROM user_permissions
   WHERE permission = 'ADMIN' AND granted_by = 'env:PODIUM_ADMIN_USERNAME'
  ON CONFLICT DO NOTHING
  RETURNING user_id
)
INSERT INTO audit_log (actor_user_id, action, target_type, target_id, detail)
SELECT NULL, 'PERMISSION_GRANT', 'user', user_id::text, jsonb_build_object('permission', 'MODEL_ADMIN', 'actor', 'migration:026_model_admin')
  FROM granted;
