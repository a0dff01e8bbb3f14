import { z } from 'zod';

/**
 * By when a request's answer is of use (docs/scheduling.md). A request that has not started by
 * its deadline ends FAILED with EXPIRED, without taking an instance; one still running then is
 * cut, and ends FAILED with DEADLINE_EXCEEDED.
 *
 * Asked for as a duration from now (`Cancel-After: 30s`, as Replicate's header, or the body's
 * `deadline: "1m30s"`) or as a time (`deadline: "2026-12-05T10:00:00Z"`).
 */

/** The furthest a deadline may be: past it, a request would have ended anyway (docs/scheduling.md). */
export const maxDeadlineSeconds = 24 * 60 * 60;

/** Go's duration form, as Replicate's Cancel-After takes it: `500ms`, `30s`, `1m30s`, `2h`. */
const durationPattern = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const unitMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A duration in milliseconds; null when it is not one. */
export function parseDuration(text: string): number | null {
  if (!durationPattern.test(text)) return null;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(amount) * unitMs[unit!]!;
  return total;
}

const isoTime = z.iso.datetime({ offset: true });

/** Why a deadline was refused: each a 400 with its own code. */
export type DeadlineProblem = {
  code: 'INVALID_DEADLINE' | 'DEADLINE_IN_PAST' | 'DEADLINE_TOO_FAR';
  message: string;
};

/** The deadline `asked` names, in epoch ms, as read at `now`; or why it cannot be one. */
export function resolveDeadline(asked: string, now: number): { at: number } | { problem: DeadlineProblem } {
  const text = asked.trim();
  const duration = parseDuration(text);
  const at = duration !== null ? now + duration : isoTime.safeParse(text).success ? Date.parse(text) : null;
  if (at === null) {
    return {
      problem: {
        code: 'INVALID_DEADLINE',
        message: `"${asked}" is not a deadline: give a duration such as 30s, 1m30s or 500ms, or a time such as 2026-12-05T10:00:00Z`,
      },
    };
  }
  if (at <= now) {
    return {
      problem: { code: 'DEADLINE_IN_PAST', message: `The deadline ${new Date(at).toISOString()} has passed already` },
    };
  }
  if (at - now > maxDeadlineSeconds * 1000) {
    return {
      problem: {
        code: 'DEADLINE_TOO_FAR',
        message: `A deadline may be at most ${maxDeadlineSeconds / 3600} h away; leave it out for none`,
      },
    };
  }
  return { at };
}
