import { LRUCache } from 'lru-cache';
import type { Principal } from '../../domain/accounts';

type Entry = { principal: Principal; tokenExpiresAt: number };

/**
 * Validated access tokens, in memory: bounded (LRU) and short-lived (TTL), so that most
 * authenticated requests never touch the database. An entry never outlives its token, and
 * revocations arrive through `forgetSession` / `forgetUser` (Postgres NOTIFY).
 */
export class SessionCache {
  private readonly entries: LRUCache<string, Entry>;

  constructor(options: { maxEntries: number; ttlMs: number }) {
    this.entries = new LRUCache({ max: options.maxEntries, ttl: options.ttlMs, ttlAutopurge: false });
  }

  get(tokenHash: Buffer, now = Date.now()): Principal | undefined {
    const key = tokenHash.toString('base64');
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.tokenExpiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.principal;
  }

  set(tokenHash: Buffer, principal: Principal, tokenExpiresAt: number, now = Date.now()): void {
    const remaining = tokenExpiresAt - now;
    if (remaining <= 0) return;
    this.entries.set(
      tokenHash.toString('base64'),
      { principal, tokenExpiresAt },
      { ttl: Math.min(remaining, this.entries.ttl) },
    );
  }

  forgetSession(sessionId: string): void {
    this.forgetWhere((principal) => principal.sessionId === sessionId);
  }

  forgetUser(userId: string): void {
    this.forgetWhere((principal) => principal.kind === 'user' && principal.userId === userId);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private forgetWhere(matches: (principal: Principal) => boolean) {
    // Revocations are rare and the cache is bounded: a scan is simpler than a second index.
    for (const [key, entry] of this.entries.entries()) {
      if (matches(entry.principal)) this.entries.delete(key);
    }
  }
}
