import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { inPiecesOf, type PayloadStore } from '../lib/payload-store';

/** A row's worth: large enough that a 64 MB payload is 64 rows, small enough to hold one at a time. */
const chunkBytes = 1024 * 1024;

const chunkRow = z.object({ data: z.instanceof(Buffer) });

/** The embedded store: payloads as rows of payload_chunks (migration 032), nothing to install. */
export function postgresPayloadStore(db: DatabasePool): PayloadStore {
  return {
    name: 'postgres',
    async write(id, bytes) {
      let seq = 0;
      let size = 0;
      try {
        for await (const chunk of inPiecesOf(chunkBytes, bytes)) {
          await db.query(sql.unsafe`
            INSERT INTO payload_chunks (payload_id, seq, data) VALUES (${id}, ${seq}, ${sql.binary(chunk)})`);
          seq += 1;
          size += chunk.length;
        }
      } catch (error) {
        await db.query(sql.unsafe`DELETE FROM payload_chunks WHERE payload_id = ${id}`).catch(() => undefined);
        throw error;
      }
      return size;
    },
    async *read(id) {
      // A chunk at a time, so a reader holds one chunk whatever the payload's size.
      for (let seq = 0; ; seq += 1) {
        const data = await db.maybeOneFirst(sql.type(chunkRow)`
          SELECT data FROM payload_chunks WHERE payload_id = ${id} AND seq = ${seq}`);
        if (!data) return;
        yield data;
      }
    },
    async remove(ids) {
      await db.query(sql.unsafe`DELETE FROM payload_chunks WHERE payload_id = ANY(${sql.array([...ids], 'uuid')})`);
    },
  };
}
