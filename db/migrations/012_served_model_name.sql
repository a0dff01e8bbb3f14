-- The name the model server serves the model under (its URLs: /v2/models/{name}/…), when it is
-- not the catalog id: an MLServer model-settings name, a Triton repository entry. NULL: the id.
ALTER TABLE models ADD COLUMN served_model_name text
  CHECK (served_model_name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$');
