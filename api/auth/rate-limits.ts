import type { Pool } from 'pg';
import { RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { ApiError } from '../http/errors';

/** Where the API's shared counters live: the `login_rate_limits` table of our schema. */
export type CounterStore = { pool: Pool; schema: string };

/** A counter kept in Postgres, so that every API process shares it. */
export function postgresLimiter(
  store: CounterStore,
  options: { keyPrefix: string; points: number; duration: number; blockDuration?: number },
) {
  return new RateLimiterPostgres({
    storeClient: store.pool,
    storeType: 'pool',
    schemaName: store.schema,
    tableName: 'login_rate_limits',
    tableCreated: true,
    ...options,
  });
}

/** Whole seconds until the counter lets the key in again (at least 1), for `Retry-After`. */
export const secondsToWait = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

/**
 * Counts one use of `key`, or refuses it with a 429 whose `details.retryAfterSeconds` becomes
 * the `Retry-After` header; `refusal` gives its code and message.
 */
export async function consumeOr429(
  limiter: RateLimiterAbstract,
  key: string,
  refusal: (seconds: number) => { code: string; message: string },
): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (error) {
    // The store's own failure (its pool has pg's query timeout): errors.ts maps a database out of reach to 503.
    if (!(error instanceof RateLimiterRes)) throw error;
    const seconds = secondsToWait(error);
    const { code, message } = refusal(seconds);
    throw new ApiError(429, code, message, { retryAfterSeconds: seconds });
  }
}
