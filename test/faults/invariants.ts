import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { isProcessAlive } from '../../activities/runtime/model-process';
import { modelServerPids } from './scenarios';

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
  const row = z.object({
    id: z.string(),
    pid: z.string(),
    status: z.string(),
    slotState: z.string().nullable(),
    events: z.string(),
  });
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
      const notes = dead.map(
        (instance) => `instance ${instance.id} (${instance.status}, slot ${instance.slotState}): ${instance.events}`,
      );
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
