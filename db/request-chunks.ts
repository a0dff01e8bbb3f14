import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { requestChunk, type RequestChunk } from '../domain/request-events';

/**
 * A request's output chunks (migration 029): written by the try of the model call that holds
 * the stream, read by everyone who follows the request. Each write is announced on this
 * channel as it commits, with the chunks themselves when they fit in a notification.
 */
export const requestChunksChannel = 'podium_request_chunks';

/** PostgreSQL's notification payloads stop at 8000 bytes: larger batches are read from the table. */
const maxNotifiedBytes = 7_000;

const claimRow = z.object({ attempt: z.number() });
const storedRow = z.object({ lastSeq: z.number(), stored: z.string() });

/**
 * Makes this try the stream's writer (any earlier try's writes are refused from now on) and
 * says what the earlier tries stored: the last chunk's number and the text since the last restart.
 * Null when there is no such request.
 *
 * Two statements, in this order: the claim waits for a write that holds the row, and the read
 * after it, with a snapshot of its own, sees that write (one statement's snapshot would not).
 */
export async function claimStream(
  db: CommonQueryMethods,
  requestId: string,
): Promise<{ attempt: number; lastSeq: number; stored: string } | null> {
  const claim = await db.maybeOne(sql.type(claimRow)`
    UPDATE work_requests SET stream_attempt = stream_attempt + 1 WHERE id = ${requestId}
    RETURNING stream_attempt AS attempt`);
  if (!claim) return null;
  // Every try claims before it writes: the first has nothing before it to read.
  if (claim.attempt === 1) return { attempt: 1, lastSeq: 0, stored: '' };
  const stored = await db.one(sql.type(storedRow)`
    WITH restarted AS (
      SELECT COALESCE(max(seq), 0) AS since FROM request_chunks WHERE request_id = ${requestId} AND kind = 'restart'
    )
    SELECT COALESCE((SELECT max(seq) FROM request_chunks WHERE request_id = ${requestId}), 0) AS "lastSeq",
           COALESCE((SELECT string_agg(text, '' ORDER BY seq) FROM request_chunks, restarted
                      WHERE request_id = ${requestId} AND kind = 'text' AND seq > restarted.since), '') AS stored`);
  return { attempt: claim.attempt, ...stored };
}

const writtenRow = z.object({ written: z.number(), announced: z.number() });

/**
 * Appends chunks in one statement, unless another try has claimed the stream since `attempt`
 * (false then: nothing was written). The row lock it shares keeps a claim from passing a write.
 */
export async function appendChunks(
  db: CommonQueryMethods,
  requestId: string,
  attempt: number,
  chunks: readonly RequestChunk[],
): Promise<boolean> {
  const notified = JSON.stringify(chunks);
  const { written } = await db.one(sql.type(writtenRow)`
    WITH holder AS (
      SELECT id FROM work_requests WHERE id = ${requestId} AND stream_attempt = ${attempt} FOR SHARE
    ), inserted AS (
      INSERT INTO request_chunks (request_id, seq, attempt, kind, text)
      SELECT holder.id, chunk.seq, ${attempt}, chunk.kind, chunk.text
        FROM holder, unnest(${sql.array(
          chunks.map((chunk) => chunk.seq),
          'int4',
        )}::int[], ${sql.array(
          chunks.map((chunk) => chunk.kind),
          'text',
        )}::text[], ${sql.array(
          chunks.map((chunk) => chunk.text),
          'text',
        )}::text[]) AS chunk(seq, kind, text)
      RETURNING seq
    ), announced AS (
      SELECT pg_notify(${requestChunksChannel}, json_build_object(
               'schema', current_schema(), 'requestId', ${requestId}::text,
               'chunks', ${notified.length <= maxNotifiedBytes ? notified : null}::json)::text)
        FROM (SELECT 1 FROM inserted LIMIT 1) AS any_inserted
    )
    -- announced is named here so that it runs: PostgreSQL skips a SELECT nobody reads.
    SELECT (SELECT count(*)::int FROM inserted) AS written, (SELECT count(*)::int FROM announced) AS announced`);
  return written === chunks.length;
}

/** Up to `limit` chunks after `afterSeq`, in order. */
export async function readChunks(
  db: CommonQueryMethods,
  requestId: string,
  afterSeq: number,
  limit: number,
): Promise<readonly RequestChunk[]> {
  return db.any(sql.type(requestChunk)`
    SELECT seq, attempt, kind, text FROM request_chunks
     WHERE request_id = ${requestId} AND seq > ${afterSeq}
     ORDER BY seq
     LIMIT ${limit}`);
}
