import { WaitTimeout } from './errors';

/** Longest single long poll: Podium holds one up to 300 s, proxies often cut sooner. */
export const longestPollSeconds = 60;

/**
 * What to do with an answer: `renew` the credentials and send again, wait this many
 * milliseconds and send again (429, 503: `Retry-After`), or `answer`: it is the answer.
 */
export function afterAnswer(
  status: number,
  retryAfter: string | null,
  attempt: number,
  maxRetries: number,
  canRenew: boolean,
): 'renew' | 'answer' | number {
  if (status === 401 && canRenew) return 'renew';
  if ((status === 429 || status === 503) && attempt < maxRetries) return retryAfterMs(retryAfter);
  return 'answer';
}

/** Retry-After (seconds) in milliseconds, at most a minute; a second when it says nothing usable. */
export function retryAfterMs(retryAfter: string | null): number {
  const seconds = Number(retryAfter ?? '1');
  return Number.isFinite(seconds) ? Math.min(Math.max(seconds, 0), 60) * 1000 : 1000;
}

/** The pause before trying a cut call again. */
export const backoffMs = (attempt: number): number => Math.min(2 ** attempt * 250, 5000);

/** How long the next long poll may be held (whole seconds); WaitTimeout when the wait's time is up. */
export function nextPollSeconds(giveUpAt: number | null, now: number, requestId: string): number {
  if (giveUpAt === null) return longestPollSeconds;
  const left = (giveUpAt - now) / 1000;
  if (left <= 0) throw new WaitTimeout('WAIT_TIMEOUT', 'The request had not ended when the wait was up', { requestId });
  return Math.max(1, Math.min(longestPollSeconds, Math.floor(left)));
}

/** A deadline as the API takes it: milliseconds from now as a duration, a Date as its ISO time, else as given. */
export function deadlineText(deadline: string | number | Date): string {
  if (typeof deadline === 'number') return `${Math.round(deadline)}ms`;
  if (deadline instanceof Date) return deadline.toISOString();
  return deadline;
}
