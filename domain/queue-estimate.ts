import { z } from 'zod';

/**
 * What a model's line looks like now, as the estimate of a start reads it (docs/scheduling.md):
 * - `serviceSeconds`: the mean time the model took over its latest answers; null before any;
 * - `readySlots`, `busySlots`: the slots of its ready instances, and those held now;
 * - `startingSlots`: slots of instances still starting;
 * - `startupSeconds`: how long its latest instances took to become ready; null before any.
 */
export const lineFacts = z.object({
  serviceSeconds: z.number().nullable(),
  readySlots: z.number(),
  busySlots: z.number(),
  startingSlots: z.number(),
  maxConcurrency: z.number(),
  startupSeconds: z.number().nullable(),
  startupTimeoutSeconds: z.number(),
});
export type LineFacts = z.infer<typeof lineFacts>;

/**
 * Seconds until the request at `position` in the line (1: next) starts, or null when nothing
 * has been measured yet. It counts only the instances there are (starting ones once they are
 * ready), never those the pool may add, and a whole service time for every round of slots
 * ahead: an upper bound while the model's times hold, so a deadline it says can be met is met.
 */
export function secondsUntilStart(position: number, facts: LineFacts): number | null {
  const { serviceSeconds } = facts;
  if (serviceSeconds === null) return null;
  const freeSlots = Math.max(0, facts.readySlots - facts.busySlots);
  if (position <= freeSlots) return 0;
  if (facts.readySlots > 0) return Math.ceil((position - freeSlots) / facts.readySlots) * serviceSeconds;
  const startup = facts.startupSeconds ?? facts.startupTimeoutSeconds;
  const slotsOnceUp = Math.max(facts.startingSlots, facts.maxConcurrency);
  return startup + (Math.ceil(position / slotsOnceUp) - 1) * serviceSeconds;
}

/**
 * Whether a request joining at `position` can end by its deadline, `secondsLeft` away: it must
 * start and be served in time. Unknown (nothing measured) admits it.
 */
export function deadlineReachable(
  position: number,
  secondsLeft: number,
  facts: LineFacts,
): { reachable: boolean; startSeconds: number | null } {
  const startSeconds = secondsUntilStart(position, facts);
  if (startSeconds === null) return { reachable: true, startSeconds };
  return { reachable: startSeconds + facts.serviceSeconds! <= secondsLeft, startSeconds };
}
