-- Streaming requests (issue 33). A model may speak the OpenAI API (vLLM, llama.cpp's server,
-- TGI, Ollama, the Markov demo) as well as OIP v2; a request's output can come in chunks, kept
-- here as they arrive so that any number of readers can follow it and resume where they left.

ALTER TABLE models DROP CONSTRAINT models_protocol_check;
ALTER TABLE models ADD CONSTRAINT models_protocol_check CHECK (protocol IN ('oip-v2', 'openai'));
-- The most tokens one request may ask for; null: the model's own limit.
ALTER TABLE models ADD COLUMN max_tokens integer CHECK (max_tokens > 0);

-- Which attempt at the stream may write its chunks: each try of the model call claims the next
-- number, and the chunks of an earlier try (a worker cut off, not dead) are refused from then on.
ALTER TABLE work_requests ADD COLUMN stream_attempt integer NOT NULL DEFAULT 0;

-- A request's output chunks, append-only, numbered from 1 without gaps; deleted with the request.
-- kind 'text' carries a piece of the output; 'restart' says a later try's output did not begin
-- as the stored one did: the chunks after it are that try's output from its start.
CREATE TABLE request_chunks (
  request_id uuid NOT NULL REFERENCES work_requests (id) ON DELETE CASCADE,
  seq integer NOT NULL CHECK (seq > 0),
  attempt integer NOT NULL,
  kind text NOT NULL CHECK (kind IN ('text', 'restart')),
  text text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (request_id, seq)
);

-- The demo generator: a word-level Markov chain that speaks OpenAI's chat and completions, with
-- server-sent events when asked to stream (models/markov).
INSERT INTO models (id, display_name, description, protocol, local_command, container_image, resources,
                    startup_timeout_seconds, request_timeout_seconds, readiness_path, max_concurrency,
                    keep_warm_seconds, max_tokens)
VALUES ('markov', 'Markov text generator',
        'A small deterministic word-level Markov chain built from the Declaration of Independence. Speaks the OpenAI API (chat, completions, embeddings) and streams.',
        'openai', '{node,models/markov/server.ts}', 'podium-model-markov:0.2.0',
        '{"cpu": "100m", "memory": "128Mi"}', 30, 60, '/v1/models', 64, 300, 2048)
ON CONFLICT (id) DO NOTHING;
