import { RateLimiterRes, type RateLimiterPostgres } from 'rate-limiter-flexible';
import { postgresLimiter, secondsToWait, type CounterStore } from './rate-limits';

export type LoginRateLimitConfig = {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
};

/**
 * Sign-in attempts counted per account and client IP together, and per client IP, in Postgres so
 * that every API process shares the counts (rate-limiter-flexible's RateLimiterPostgres on the
 * `login_rate_limits` table of our schema). An attempt is counted before its password is
 * checked, atomically, so parallel guesses cannot all slip through; a successful sign-in gives
 * its attempt back and clears the count, so the limits bite on failures only.
 *
 * The account's count is per address: a stranger's failures block the stranger, never the
 * owner signing in from elsewhere. Guessing from many addresses is bounded per address.
 */
export class LoginRateLimit {
  private readonly perAccountAddress: RateLimiterPostgres;
  private readonly perIp: RateLimiterPostgres;

  constructor(store: CounterStore, limits: LoginRateLimitConfig) {
    const window = { duration: limits.windowSeconds, blockDuration: limits.windowSeconds };
    this.perAccountAddress = postgresLimiter(store, {
      ...window,
      keyPrefix: 'account-ip',
      points: limits.maxFailuresPerAccount,
    });
    this.perIp = postgresLimiter(store, { ...window, keyPrefix: 'ip', points: limits.maxFailuresPerIp });
  }

  /**
   * Counts one attempt for the account (its id, or the unknown name it was tried under) and the
   * address. `refused`: over the limit, do not check the password, wait `retryAfterSeconds`;
   * `last`: allowed, but a failure now uses up the allowance (answer 429 rather than 401).
   */
  async attempt(account: string, ip: string): Promise<{ refused: boolean; last: boolean; retryAfterSeconds: number }> {
    const results = await Promise.allSettled([
      this.perAccountAddress.consume(`${account}@${ip}`),
      this.perIp.consume(ip),
    ]);
    let refused = false;
    let last = false;
    let retryAfterSeconds = 0;
    for (const result of results) {
      const res = result.status === 'fulfilled' ? result.value : result.reason;
      if (!(res instanceof RateLimiterRes)) throw res; // the store failed: errors.ts answers 503 when it is the database
      if (result.status === 'rejected') refused = true;
      else if (res.remainingPoints === 0) last = true;
      else continue;
      retryAfterSeconds = Math.max(retryAfterSeconds, secondsToWait(res));
    }
    return { refused, last, retryAfterSeconds };
  }

  /** The attempt succeeded: the account starts afresh from this address, which gets its attempt back. */
  async succeeded(account: string, ip: string): Promise<void> {
    await Promise.all([this.perAccountAddress.delete(`${account}@${ip}`), this.perIp.reward(ip, 1)]);
  }
}
