import type { DatabasePool } from 'slonik';
import { lookUpAccessToken, type AccessTokenLookup } from '../../db/sessions';
import { sessionCacheLookups } from '../../lib/metrics';
import type { SessionCache } from './session-cache';

/**
 * Resolves an access token to its principal: from the cache when it holds the token, else from
 * the database (and then cached). Without a cache every call asks the database.
 */
export function createAuthenticator({ db, cache }: { db: DatabasePool; cache: SessionCache | null }) {
  return async function authenticate(tokenHash: Buffer): Promise<AccessTokenLookup> {
    const cached = cache?.get(tokenHash);
    if (cache) sessionCacheLookups.inc({ result: cached ? 'hit' : 'miss' });
    if (cached) return { status: 'VALID', principal: cached, expiresAt: Number.NaN };
    const found = await lookUpAccessToken(db, tokenHash);
    if (found.status === 'VALID') cache?.set(tokenHash, found.principal, found.expiresAt);
    return found;
  };
}
export type Authenticate = ReturnType<typeof createAuthenticator>;
