import type { RateLimiterPostgres } from 'rate-limiter-flexible';
import { consumeOr429, postgresLimiter, type CounterStore } from './rate-limits';

export type CreationLimitsConfig = { anonymousSessionsPerIpPerHour: number; signupsPerIpPerHour: number };

const refusals = {
  session: { code: 'TOO_MANY_SESSIONS', what: 'anonymous sessions' },
  signup: { code: 'TOO_MANY_SIGNUPS', what: 'sign-ups' },
} as const;

/**
 * How many anonymous sessions and accounts one client address may create per hour: each costs
 * a row (and a sign-up an argon2 hash), so without a limit anyone could mint them without end.
 * Counted in Postgres, shared by every API process.
 */
export class CreationLimits {
  private readonly limiters: Record<keyof typeof refusals, RateLimiterPostgres>;

  constructor(store: CounterStore, limits: CreationLimitsConfig) {
    this.limiters = {
      session: postgresLimiter(store, {
        keyPrefix: 'anonymous-session',
        points: limits.anonymousSessionsPerIpPerHour,
        duration: 3600,
      }),
      signup: postgresLimiter(store, { keyPrefix: 'signup', points: limits.signupsPerIpPerHour, duration: 3600 }),
    };
  }

  /** Counts one creation from `ip`, or refuses it with a 429 that says when to come back. */
  async take(kind: keyof typeof refusals, ip: string): Promise<void> {
    const { code, what } = refusals[kind];
    await consumeOr429(this.limiters[kind], ip, (seconds) => ({
      code,
      message: `Too many ${what} from your address; try again in ${seconds} s`,
    }));
  }

  /** Gives back a creation `take` counted that did not happen (it was refused as bad input). */
  async giveBack(kind: keyof typeof refusals, ip: string): Promise<void> {
    await this.limiters[kind].reward(ip, 1);
  }
}
