/** What the database knows of a presented refresh token and its session. */
export type RefreshTokenState = {
  tokenExpiresAt: number;
  consumedAt: number | null;
  sessionRevokedAt: number | null;
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
 * token works once; presenting a used one revokes its whole session family.
 */
export function decideRefresh(state: RefreshTokenState, now: number, reuseGraceMs: number): RefreshDecision {
  if (state.sessionRevokedAt !== null) return { outcome: 'REVOKED' };
  if (state.consumedAt !== null) {
    return now - state.consumedAt <= reuseGraceMs ? { outcome: 'ALREADY_ROTATED' } : { outcome: 'REUSED_REVOKE_FAMILY' };
  }
  if (state.tokenExpiresAt <= now) return { outcome: 'EXPIRED' };
  return { outcome: 'ROTATE' };
}
