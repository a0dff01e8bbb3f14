-- The demo models shipped in models/. The container images are what the Kubernetes runtime
-- would run; the local runtime runs local_command from the repository root.
INSERT INTO models (id, display_name, description, local_command, container_image, resources,
                    startup_timeout_seconds, request_timeout_seconds)
VALUES
  ('echo', 'Echo', 'Returns its input tensors unchanged.',
   '{node,models/echo/server.ts}', 'ghcr.io/podium/model-echo:0.1.0',
   '{"cpu": "100m", "memory": "128Mi"}', 30, 30),
  ('sentiment', 'Sentiment (AFINN-165)',
   'Lexicon-based sentiment of each string of a BYTES tensor: a label and a comparative score.',
   '{node,models/sentiment/server.ts}', 'ghcr.io/podium/model-sentiment:0.1.0',
   '{"cpu": "250m", "memory": "256Mi"}', 30, 30),
  ('fail', 'Always fails', 'Answers every inference with a server error; for tests.',
   '{node,models/fail/server.ts}', 'ghcr.io/podium/model-fail:0.1.0',
   '{"cpu": "100m", "memory": "64Mi"}', 30, 30);
