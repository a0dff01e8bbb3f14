-- How each model's server is run (issue 16): a runtime preset that knows how the server takes its
-- port, name and settings, the process's environment and directory, the container's command,
-- arguments and environment, the readiness path, and where the artifacts are.
ALTER TABLE models
  ADD COLUMN runtime text NOT NULL DEFAULT 'podium-node'
    CHECK (runtime IN ('podium-node', 'mlserver', 'kserve', 'triton', 'custom')),
  ADD COLUMN env jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(env) = 'object'),
  ADD COLUMN working_dir text,
  ADD COLUMN container_command text[],
  ADD COLUMN container_args text[],
  ADD COLUMN container_env jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(container_env) = 'object'),
  ADD COLUMN readiness_path text CHECK (readiness_path LIKE '/%'),
  ADD COLUMN storage_uri text,
  ADD COLUMN port_env text,
  ADD COLUMN port_arg text,
  ADD CONSTRAINT models_port_setting_custom_only CHECK (runtime = 'custom' OR (port_env IS NULL AND port_arg IS NULL));
