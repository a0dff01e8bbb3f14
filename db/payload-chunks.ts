import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { inPiecesOf, type PayloadStore } from '../lib/payload-store';

/**
 * A row's bytes, and how many rows a statement writes or reads. Rows are small so that what a
 * row costs in memory on its way (PostgreSQL sends bytea as text) is a young object the
 * collector takes at once, not a large one that waits for a full collection; statements carry
 * several rows, so a payload costs few round trips. `npm run bench:payloads` measures both.
 */
const chunkBytes = 32 * 1024;
const chunksPerWrite = 8;
const chunksPerRead = 32;

const chunkRow = z.object({ data: z.string() });

/** The embedded store: payloads as rows of payload_chunks (migration 032), nothing to install. */
export function postgresPayloadStore(db: DatabasePool): PayloadStore {
  return {
    name: 'postgres',
    async write(id, bytes) {
      let seq = 0;
      let size = 0;
      try {
        // One parameter a statement, cut into rows by PostgreSQL: the driver copies one buffer
        // once, where a parameter per row grows its message buffer row by row. The commit does
        // not wait for its WAL to reach the disk: the payload's completion (completePayload), a
        // commit that does wait, comes after, and its flush takes every earlier record with it.
        for await (const piece of inPiecesOf(chunkBytes * chunksPerWrite, bytes)) {
          await db.transaction(async (transaction) => {
            await transaction.query(sql.unsafe`SET LOCAL synchronous_commit = off`);
            await transaction.query(sql.unsafe`
              INSERT INTO payload_chunks (payload_id, seq, data)
              SELECT ${id}, ${seq} + i, substring(${sql.binary(piece)}::bytea FROM i * ${chunkBytes} + 1 FOR ${chunkBytes})
                FROM generate_series(0, ${Math.ceil(piece.length / chunkBytes) - 1}) AS i`);
          });
          seq += Math.ceil(piece.length / chunkBytes);
          size += piece.length;
        }
      } catch (error) {
        await db.query(sql.unsafe`DELETE FROM payload_chunks WHERE payload_id = ${id}`).catch(() => undefined);
        throw error;
      }
      return size;
    },
    async *read(id) {
      // A statement's rows at a time, so a reader holds a few of them whatever the payload's size.
      // Base64 is a third the text of bytea's hex.
      for (let from = 0; ; from += chunksPerRead) {
        const chunks = await db.anyFirst(sql.type(chunkRow)`
          SELECT encode(data, 'base64') AS data FROM payload_chunks
           WHERE payload_id = ${id} AND seq >= ${from} AND seq < ${from + chunksPerRead}
           ORDER BY seq`);
        for (const chunk of chunks) yield Buffer.from(chunk, 'base64');
        if (chunks.length < chunksPerRead) return;
      }
    },
    async remove(ids) {
      await db.query(sql.unsafe`DELETE FROM payload_chunks WHERE payload_id = ANY(${sql.array([...ids], 'uuid')})`);
    },
  };
}
