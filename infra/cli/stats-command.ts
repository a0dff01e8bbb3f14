import type { DatabasePool } from 'slonik';
import { backfillRollups, type BackfillProgress } from '../../db/stats-rollups';

export const statsUsage = 'npm run podium -- stats backfill';

/**
 * `stats backfill`: rolls up the stats rows written before the rollups existed (migration 021
 * does it itself for up to a million rows), a UTC day at a time with a progress line per 10 %,
 * so grouped stats come from the rollups again. Safe to interrupt and run again.
 */
export async function statsCommand(
  db: DatabasePool,
  [command]: string[],
  progress: (line: string) => void,
): Promise<string> {
  if (command !== 'backfill') throw new Error(`usage: ${statsUsage}`);
  const started = performance.now();
  let reported = 0;
  const onDay = ({ day, done, days, rows }: BackfillProgress) => {
    const tenth = Math.floor((done / days) * 10);
    if (tenth > reported || done === days) {
      reported = tenth;
      progress(`${day}: ${done}/${days} days, ${rows.toLocaleString('en')} rows rolled up`);
    }
  };
  const { days, rows } = await backfillRollups(db, onDay);
  if (days === 0) return 'the rollups are complete: nothing to backfill';
  return `rolled up ${rows.toLocaleString('en')} rows over ${days} days in ${((performance.now() - started) / 1000).toFixed(1)} s; grouped stats now come from the rollups`;
}
