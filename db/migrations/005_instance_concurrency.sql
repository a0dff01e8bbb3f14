-- How many requests one instance serves at once (KServe calls it containerConcurrency). The
-- demo models are asynchronous servers that handle several at a time.
ALTER TABLE models ADD COLUMN max_concurrency integer NOT NULL DEFAULT 1 CHECK (max_concurrency >= 1);
UPDATE models SET max_concurrency = 8 WHERE id IN ('echo', 'sentiment');
