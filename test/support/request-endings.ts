import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';

/**
 * How the accepted requests ended, once all have and their slots are back (or `timeoutMs`
 * passed). A warm request whose finish found somebody waiting is COMPLETE a moment before its
 * slot is handed over (a second transaction, retried while the database is down), so a slot
 * counts as held only if it still is at the end.
 */
export type Endings = {
  complete: number;
  failed: string[];
  /** Still REQUESTED or PROCESSING. */
  unended: number;
  /** Ended, but with other than one stats row (COMPLETE and FAILED have exactly one). */
  statsNotOnce: number;
  heldSlots: number;
};

export async function endingsOf(db: DatabasePool, ids: string[], timeoutMs: number): Promise<Endings> {
  const row = z.object({ status: z.string(), code: z.string().nullable(), statsRows: z.number() });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await db.any(sql.type(row)`
      SELECT r.status, r.error ->> 'code' AS code,
             (SELECT count(*)::int FROM request_stats s WHERE s.request_id = r.id) AS "statsRows"
        FROM work_requests r WHERE r.id = ANY(${sql.array(ids, 'uuid')})`);
    const unended =
      rows.filter((r) => r.status === 'REQUESTED' || r.status === 'PROCESSING').length + (ids.length - rows.length);
    const heldSlots = await db.oneFirst(sql.type(z.object({ n: z.number() }))`
      SELECT count(*)::int AS n FROM instance_leases WHERE request_id = ANY(${sql.array(ids, 'uuid')}) AND released_at IS NULL`);
    if ((unended === 0 && heldSlots === 0) || Date.now() > deadline) {
      return {
        complete: rows.filter((r) => r.status === 'COMPLETE').length,
        failed: rows.filter((r) => r.status === 'FAILED').map((r) => r.code ?? '?'),
        unended,
        statsNotOnce: rows.filter((r) => (r.status === 'COMPLETE' || r.status === 'FAILED') && r.statsRows !== 1)
          .length,
        heldSlots,
      };
    }
    await sleep(500);
  }
}
