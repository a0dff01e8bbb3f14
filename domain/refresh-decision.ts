/** What the database knows of a presented refresh token and its session. */
export type RefreshTokenState = {
  tokenExpiresAt: number;
  consumedAt: number | null;
  sessionRevokedAt: number | null;
  /** When the session began: it ends at SESSION_MAX_LIFETIME_SECONDS, however often it is refreshed. */
  sessionCreatedAt: number;
};

export type RefreshDecision =
  | { outcome: 'ROTATE' }
  /** Used moments ago (another tab, a retried request): not an attack; the caller retries with its newer cookies. */
  | { outcome: 'ALREADY_ROTATED' }
  /** Used before, outside the grace period: someone holds a stolen token, so the whole family goes. */
  | { outcome: 'REUSED_REVOKE_FAMILY' }
  | { outcome: 'EXPIRED' }
  | { outcome: 'REVOKED' };

/**
 * Refresh-token rotation with reuse detection (OAuth 2.0 Security BCP §4.14): each refresh
 * token works once; presenting a used one revokes its whole session family. A session's
 * refreshes slide its expiry, up to an absolute lifetime (`maxLifetimeMs`) from its sign-in.
 */
export function decideRefresh(
  state: RefreshTokenState,
  now: number,
  reuseGraceMs: number,
  maxLifetimeMs: number,
): RefreshDecision {
  if (state.sessionRevokedAt !== null) return { outcome: 'REVOKED' };
  if (state.consumedAt !== null) {
    return now - state.consumedAt <= reuseGraceMs
      ? { outcome: 'ALREADY_ROTATED' }
      : { outcome: 'REUSED_REVOKE_FAMILY' };
  }
  if (state.tokenExpiresAt <= now || now - state.sessionCreatedAt >= maxLifetimeMs) return { outcome: 'EXPIRED' };
  return { outcome: 'ROTATE' };
}

/** Seconds a refresh token issued now may live: its own lifetime, or what is left of the session's. */
export function refreshTtlSeconds(
  refreshTtl: number,
  sessionCreatedAt: number,
  now: number,
  maxLifetimeMs: number,
): number {
  return Math.max(1, Math.min(refreshTtl, Math.floor((sessionCreatedAt + maxLifetimeMs - now) / 1000)));
}
