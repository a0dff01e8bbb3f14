import { RateLimiterMemory } from 'rate-limiter-flexible';
import { ownerId, ownerOf } from '../../db/work-requests';
import type { Principal } from '../../domain/accounts';
import { consumeOr429 } from './rate-limits';

const isAdmin = (principal: Principal) => principal.kind === 'user' && principal.permissions.includes('ADMIN');

/**
 * What one session or user may submit: so many requests on their way at once (checked by the
 * insert itself, see insertWorkRequest) and so many submissions a minute (counted in this API
 * process's memory: no database round trip on the request path; with N API processes a client
 * spread over all of them gets up to N times as many). ADMIN has neither limit.
 */
export function requestQuotas(limits: { inFlight: number; perMinute: number }) {
  const perMinute = new RateLimiterMemory({ points: limits.perMinute, duration: 60 });
  return {
    /** How many requests the principal may have on their way at once. */
    maxInFlight: (principal: Principal) => (isAdmin(principal) ? 2 ** 31 - 1 : limits.inFlight),
    /** Counts one submission, or refuses it with a 429 that says when to come back. */
    async takeSubmission(principal: Principal): Promise<void> {
      if (isAdmin(principal)) return;
      await consumeOr429(perMinute, ownerId(ownerOf(principal)), (seconds) => ({
        code: 'TOO_MANY_REQUESTS',
        message: `More than ${limits.perMinute} submissions a minute; try again in ${seconds} s`,
      }));
    },
    /** Gives back the submission counted for what turned out to be a retry of an earlier one. */
    returnSubmission(principal: Principal): void {
      if (isAdmin(principal)) return;
      void perMinute.reward(ownerId(ownerOf(principal)), 1);
    },
  };
}
export type RequestQuotas = ReturnType<typeof requestQuotas>;
