-- The tensors a model takes and gives, as Open Inference Protocol v2 model metadata lists them
-- (name, datatype, shape; -1 for any length), for the API's /v2/models/{name} (issue 16).
ALTER TABLE models
  ADD COLUMN inputs jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(inputs) = 'array'),
  ADD COLUMN outputs jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(outputs) = 'array');

-- The demo models, as their servers (models/*/server.ts) describe themselves.
UPDATE models SET inputs = '[{"name": "numbers", "datatype": "FP32", "shape": [-1, -1]}]',
                  outputs = '[{"name": "numbers", "datatype": "FP32", "shape": [-1, -1]}]'
 WHERE id = 'echo';
UPDATE models SET inputs = '[{"name": "text", "datatype": "BYTES", "shape": [-1]}]',
                  outputs = '[{"name": "label", "datatype": "BYTES", "shape": [-1]}, {"name": "score", "datatype": "FP32", "shape": [-1]}]'
 WHERE id = 'sentiment';
UPDATE models SET inputs = '[{"name": "numbers", "datatype": "FP32", "shape": [-1, -1]}]' WHERE id = 'fail';
