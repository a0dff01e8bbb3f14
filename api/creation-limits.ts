import type { Pool } from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from './errors';

export type CreationLimitsConfig = { anonymousSessionsPerIpPerHour: number; signupsPerIpPerHour: number };

const refusals = {
  session: { code: 'TOO_MANY_SESSIONS', what: 'anonymous sessions' },
  signup: { code: 'TOO_MANY_SIGNUPS', what: 'sign-ups' },
} as const;

/**
 * How many anonymous sessions and accounts one client address may create per hour: each costs
 * a row (and a sign-up an argon2 hash), so without a limit anyone could mint them without end.
 * Counted in Postgres (the `login_rate_limits` table), shared by every API process.
 */
export class CreationLimits {
  private readonly limiters: Record<keyof typeof refusals, RateLimiterPostgres>;

  constructor(options: { pool: Pool; schema: string } & CreationLimitsConfig) {
    const common = { storeClient: options.pool, storeType: 'pool', schemaName: options.schema, tableName: 'login_rate_limits', tableCreated: true, duration: 3600 };
    this.limiters = {
      session: new RateLimiterPostgres({ ...common, keyPrefix: 'anonymous-session', points: options.anonymousSessionsPerIpPerHour }),
      signup: new RateLimiterPostgres({ ...common, keyPrefix: 'signup', points: options.signupsPerIpPerHour }),
    };
  }

  /** Counts one creation from `ip`, or refuses it with a 429 that says when to come back. */
  async take(kind: keyof typeof refusals, ip: string): Promise<void> {
    try {
      await this.limiters[kind].consume(ip);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      const { code, what } = refusals[kind];
      throw new ApiError(429, code, `Too many ${what} from your address; try again in ${seconds} s`, { retryAfterSeconds: seconds });
    }
  }
}
