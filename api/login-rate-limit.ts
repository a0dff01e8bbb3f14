import { Pool } from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { withSearchPath } from '../db/pool';

export type LoginRateLimitConfig = {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
};

/**
 * Failed sign-ins counted per account and per client IP, in Postgres so that every API process
 * shares the counts (rate-limiter-flexible's RateLimiterPostgres on the `login_rate_limits`
 * table of our schema).
 */
export class LoginRateLimit {
  private readonly db: Pool;
  private readonly perAccount: RateLimiterPostgres;
  private readonly perIp: RateLimiterPostgres;

  constructor(options: { databaseUrl: string; schema: string } & LoginRateLimitConfig) {
    this.db = new Pool({ connectionString: withSearchPath(options.databaseUrl, options.schema), max: 3 });
    const common = {
      storeClient: this.db,
      storeType: 'pool',
      schemaName: options.schema,
      tableName: 'login_rate_limits',
      tableCreated: true,
      duration: options.windowSeconds,
      blockDuration: options.windowSeconds,
    };
    this.perAccount = new RateLimiterPostgres({ ...common, keyPrefix: 'account', points: options.maxFailuresPerAccount });
    this.perIp = new RateLimiterPostgres({ ...common, keyPrefix: 'ip', points: options.maxFailuresPerIp });
  }

  /** Seconds to wait before trying again, or 0 when a sign-in may be attempted. */
  async retryAfterSeconds(account: string, ip: string): Promise<number> {
    const [byAccount, byIp] = await Promise.all([this.perAccount.get(account.toLowerCase()), this.perIp.get(ip)]);
    return Math.max(this.blockedFor(byAccount, this.perAccount.points), this.blockedFor(byIp, this.perIp.points));
  }

  /** Counts one failure; returns the seconds to wait if that used up the allowance, else 0. */
  async recordFailure(account: string, ip: string): Promise<number> {
    const results = await Promise.allSettled([this.perAccount.consume(account.toLowerCase()), this.perIp.consume(ip)]);
    const waits = results.map((result) => {
      if (result.status === 'fulfilled') return result.value.remainingPoints === 0 ? Math.ceil(result.value.msBeforeNext / 1000) : 0;
      if (result.reason instanceof RateLimiterRes) return Math.ceil(result.reason.msBeforeNext / 1000);
      throw result.reason;
    });
    return Math.max(...waits);
  }

  async recordSuccess(account: string): Promise<void> {
    await this.perAccount.delete(account.toLowerCase());
  }

  async close(): Promise<void> {
    await this.db.end();
  }

  private blockedFor(result: RateLimiterRes | null, points: number): number {
    if (!result || result.consumedPoints < points) return 0;
    return Math.max(1, Math.ceil(result.msBeforeNext / 1000));
  }
}
