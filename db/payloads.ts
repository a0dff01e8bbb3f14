import { createHash } from 'node:crypto';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { PayloadStore } from '../lib/payload-store';

export type PayloadRole = 'upload' | 'input' | 'result';

const payloadRow = z.object({
  id: z.string(),
  ownerId: z.string(),
  requestId: z.string().nullable(),
  role: z.enum(['upload', 'input', 'result']),
  store: z.string(),
  size: z.number().nullable(),
  sha256: z.string().nullable(),
  createdAt: z.number(),
});
export type PayloadRow = z.infer<typeof payloadRow>;

const columns = sql.fragment`
  id, owner_id AS "ownerId", request_id AS "requestId", role, store, size::float8 AS size, sha256, created_at AS "createdAt"`;

/** A payload about to be written: its row comes first, so a writer that dies leaves a row to sweep. */
export async function insertPayload(
  db: CommonQueryMethods,
  payload: { id: string; ownerId: string; requestId: string | null; role: PayloadRole; store: string },
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO payloads (id, owner_id, request_id, role, store)
    VALUES (${payload.id}, ${payload.ownerId}, ${payload.requestId}, ${payload.role}, ${payload.store})`);
}

/** Its bytes are all written: from now on it may be read. */
export async function completePayload(db: CommonQueryMethods, id: string, size: number, sha256: string): Promise<void> {
  await db.query(sql.unsafe`UPDATE payloads SET size = ${size}, sha256 = ${sha256} WHERE id = ${id}`);
}

export async function findPayload(db: CommonQueryMethods, id: string): Promise<PayloadRow | null> {
  return db.maybeOne(sql.type(payloadRow)`SELECT ${columns} FROM payloads WHERE id = ${id}`);
}

/** Payloads by id, complete ones only, in no order. */
export async function findCompletePayloads(
  db: CommonQueryMethods,
  ids: readonly string[],
): Promise<readonly PayloadRow[]> {
  if (ids.length === 0) return [];
  return db.any(sql.type(payloadRow)`
    SELECT ${columns} FROM payloads WHERE id = ANY(${sql.array([...ids], 'uuid')}) AND size IS NOT NULL`);
}

/**
 * The owner's complete uploads among `ids` become the request's input, in the statement that
 * stores the request (submit-request.ts); returns how many did. Fewer than asked: one was not theirs,
 * not complete, or already named by another request.
 */
export async function nameUploads(
  db: CommonQueryMethods,
  requestId: string,
  ownerId: string,
  ids: readonly string[],
): Promise<number> {
  const named = await db.query(sql.unsafe`
    UPDATE payloads SET request_id = ${requestId}, role = 'input'
     WHERE id = ANY(${sql.array([...ids], 'uuid')}) AND owner_id = ${ownerId}
       AND role = 'upload' AND size IS NOT NULL`);
  return named.rowCount;
}

/** Removes payload rows (their chunks go with them); the store's bytes must be removed first. */
export async function deletePayloadRows(db: CommonQueryMethods, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(sql.unsafe`DELETE FROM payloads WHERE id = ANY(${sql.array([...ids], 'uuid')})`);
}

const idRow = z.object({ id: z.string(), store: z.string() });

/**
 * One batch of payloads nothing will read again: those of requests the retention deletes next
 * (the same rule as deleteEndedRequestsOlderThan), uploads no request named within the upload
 * lifetime, and payloads left incomplete for an hour (an upload cut halfway, a writer that died).
 */
export async function expiredPayloads(
  db: CommonQueryMethods,
  rule: { retentionDays: number; uploadHours: number; batchSize: number; finalStatuses: readonly string[] },
): Promise<readonly { id: string; store: string }[]> {
  return db.any(sql.type(idRow)`
    SELECT p.id, p.store FROM payloads p
      JOIN work_requests r ON r.id = p.request_id
     WHERE r.created_at < now() - make_interval(secs => ${rule.retentionDays * 86_400})
       AND r.status = ANY(${sql.array([...rule.finalStatuses], 'text')})
    UNION
    SELECT id, store FROM payloads
     WHERE (request_id IS NULL AND created_at < now() - make_interval(secs => ${rule.uploadHours * 3600}))
        OR (size IS NULL AND created_at < now() - interval '1 hour')
     LIMIT ${rule.batchSize}`);
}

/**
 * Writes a payload whole: its row, its bytes, then its size. When the bytes fail, nothing is
 * left of it (the row and what was written are removed) and the error is thrown.
 */
export async function writePayload(
  db: CommonQueryMethods,
  store: PayloadStore,
  payload: { id: string; ownerId: string; requestId: string | null; role: PayloadRole },
  bytes: AsyncIterable<Uint8Array>,
): Promise<number> {
  await insertPayload(db, { ...payload, store: store.name });
  try {
    const hash = createHash('sha256');
    const size = await store.write(
      payload.id,
      (async function* () {
        for await (const piece of bytes) {
          hash.update(piece);
          yield piece;
        }
      })(),
    );
    await completePayload(db, payload.id, size, hash.digest('hex'));
    return size;
  } catch (error) {
    await removePayloads(db, store, [payload.id]).catch(() => undefined);
    throw error;
  }
}

/** Removes payloads, bytes first: a removal cut halfway leaves rows to find and remove again. */
export async function removePayloads(
  db: CommonQueryMethods,
  store: PayloadStore,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  await store.remove(ids);
  await deletePayloadRows(db, ids);
}

const callFactsRow = z.object({ binaryTensors: z.boolean(), ownerId: z.string() });

/** For a call whose input has payloads: whether its model takes binary, and whose request it is. */
export async function payloadCallFacts(
  db: CommonQueryMethods,
  requestId: string,
): Promise<{ binaryTensors: boolean; ownerId: string }> {
  return db.one(sql.type(callFactsRow)`
    SELECT m.binary_tensors AS "binaryTensors", COALESCE(r.user_id, r.session_id) AS "ownerId"
      FROM work_requests r JOIN models m ON m.id = r.model_id
     WHERE r.id = ${requestId}`);
}

const payloadIdRow = z.object({ id: z.string() });

/** The payloads of a request's result (those any try at its model call wrote). */
export async function resultPayloads(db: CommonQueryMethods, requestId: string): Promise<readonly string[]> {
  return db.anyFirst(sql.type(payloadIdRow)`
    SELECT id FROM payloads WHERE request_id = ${requestId} AND role = 'result'`);
}
