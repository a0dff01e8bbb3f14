import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Principal } from '../domain/accounts';
import { ApiError } from './errors';

const isAdmin = (principal: Principal) => principal.kind === 'user' && principal.permissions.includes('ADMIN');
const ownerKey = (principal: Principal) => (principal.kind === 'user' ? `user:${principal.userId}` : `session:${principal.sessionId}`);

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
      try {
        await perMinute.consume(ownerKey(principal));
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
        throw new ApiError(429, 'TOO_MANY_REQUESTS', `More than ${limits.perMinute} submissions a minute; try again in ${seconds} s`, {
          retryAfterSeconds: seconds,
        });
      }
    },
  };
}
export type RequestQuotas = ReturnType<typeof requestQuotas>;
