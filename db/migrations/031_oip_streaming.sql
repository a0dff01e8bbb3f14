-- OIP models that stream (issue 33): their server has OIP's generate extension,
-- `/v2/models/{name}/generate_stream` (MLServer's predict_stream). A model that speaks the
-- OpenAI API always may.
ALTER TABLE models ADD COLUMN streams boolean NOT NULL DEFAULT false;
UPDATE models SET streams = true WHERE protocol = 'openai';
