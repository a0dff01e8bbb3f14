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
      let batch: Buffer[] = [];
      const send = async () => {
        if (batch.length === 0) return;
        const rows = batch.map((chunk, at) => sql.fragment`(${id}, ${seq + at}, ${sql.binary(chunk)})`);
        await db.query(sql.unsafe`
          INSERT INTO payload_chunks (payload_id, seq, data) VALUES ${sql.join(rows, sql.fragment`, `)}`);
        seq += batch.length;
        batch = [];
      };
      try {
        for await (const chunk of inPiecesOf(chunkBytes, bytes)) {
          batch.push(chunk);
          size += chunk.length;
          if (batch.length === chunksPerWrite) await send();
        }
        await send();
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
