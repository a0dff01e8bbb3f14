import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { isProcessAlive } from '../../activities/probe-instances';
import { modelServerPids } from './scenarios';

/** How the accepted requests ended, once all have (or `timeoutMs` passed). */
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
    const unended = rows.filter((r) => r.status === 'REQUESTED' || r.status === 'PROCESSING').length + (ids.length - rows.length);
    if (unended === 0 || Date.now() > deadline) {
      const heldSlots = await db.oneFirst(sql.type(z.object({ n: z.number() }))`
        SELECT count(*)::int AS n FROM instance_leases WHERE request_id = ANY(${sql.array(ids, 'uuid')}) AND released_at IS NULL`);
      return {
        complete: rows.filter((r) => r.status === 'COMPLETE').length,
        failed: rows.filter((r) => r.status === 'FAILED').map((r) => r.code ?? '?'),
        unended,
        statsNotOnce: rows.filter((r) => (r.status === 'COMPLETE' || r.status === 'FAILED') && r.statsRows !== 1).length,
        heldSlots,
      };
    }
    await sleep(500);
  }
}

/**
 * Orphans, once the pools have had `settleMs` to settle: instances recorded alive whose process
 * is gone, and model processes no live instance accounts for (but those of `before`, which ran
 * before the fault's stack started).
 */
export async function orphansOf(
  db: DatabasePool,
  settleMs: number,
  before: ReadonlySet<number>,
): Promise<{ deadRows: number; strayProcesses: number; notes: string[] }> {
  const deadline = Date.now() + settleMs;
  const row = z.object({ id: z.string(), pid: z.string(), status: z.string(), slotState: z.string().nullable(), events: z.string() });
  for (;;) {
    const live = await db.any(sql.type(row)`
      SELECT i.id, i.runtime_ref AS pid, i.status, i.slot_state AS "slotState",
             (SELECT string_agg(event, ' → ' ORDER BY occurred_at, id) FROM model_instance_log l WHERE l.instance_id = i.id) AS events
        FROM model_instances i WHERE i.status NOT IN ('TERMINATED', 'FAILED') AND i.runtime_ref IS NOT NULL`);
    const livePids = new Set(live.map((instance) => Number(instance.pid)));
    const dead = live.filter((instance) => !isProcessAlive(Number(instance.pid)));
    const strayProcesses = modelServerPids().filter((pid) => !livePids.has(pid) && !before.has(pid)).length;
    if ((dead.length === 0 && strayProcesses === 0) || Date.now() > deadline) {
      // What a dead row looked like, to tell which path left it behind.
      const notes = dead.map((instance) => `instance ${instance.id} (${instance.status}, slot ${instance.slotState}): ${instance.events}`);
      return { deadRows: dead.length, strayProcesses, notes };
    }
    await sleep(1_000);
  }
}

/** What the failed requests were told (the detail kept with each), at most `limit`. */
export async function failureDetails(db: DatabasePool, ids: string[], limit = 5): Promise<readonly string[]> {
  return db.anyFirst(sql.type(z.object({ detail: z.string() }))`
    SELECT (error ->> 'code') || ': ' || (error ->> 'message') AS detail FROM work_requests
     WHERE id = ANY(${sql.array(ids, 'uuid')}) AND status = 'FAILED' LIMIT ${limit}`);
}
