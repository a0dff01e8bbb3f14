-- What each worker's instance runtime ran when it last looked (issue 19): the admin instances
-- page reads these rows, where it used to start a workflow for every view. One row per worker;
-- `scope` says whether its view is the cluster's (every worker sees the same pods) or only its
-- own processes (the local runtime).
CREATE TABLE runtime_views (
  worker_id   text PRIMARY KEY,
  scope       text NOT NULL CHECK (scope IN ('cluster', 'process')),
  observed_at timestamptz NOT NULL,
  instances   jsonb NOT NULL CHECK (jsonb_typeof(instances) = 'array')
);
