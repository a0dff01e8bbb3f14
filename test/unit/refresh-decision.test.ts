import { decideRefresh, refreshTtlSeconds, type RefreshTokenState } from '../../domain/refresh-decision';

const now = 1_000_000_000;
const day = 24 * 3600 * 1000;
const maxLifetime = 90 * day;
const fresh: RefreshTokenState = {
  tokenExpiresAt: now + 60_000,
  consumedAt: null,
  sessionRevokedAt: null,
  sessionCreatedAt: now - day,
};

describe('refresh-token rotation', () => {
  it.each([
    ['an unused live token rotates', fresh, 'ROTATE'],
    ['an expired token is refused', { ...fresh, tokenExpiresAt: now }, 'EXPIRED'],
    [
      'a session past its absolute lifetime is refused, though its token is live',
      { ...fresh, sessionCreatedAt: now - maxLifetime },
      'EXPIRED',
    ],
    ['a revoked family is refused', { ...fresh, sessionRevokedAt: now - 1 }, 'REVOKED'],
    ['a token used moments ago is a race, not theft', { ...fresh, consumedAt: now - 5_000 }, 'ALREADY_ROTATED'],
    ['a token used long ago revokes the family', { ...fresh, consumedAt: now - 10_001 }, 'REUSED_REVOKE_FAMILY'],
    ['revocation wins over everything', { ...fresh, consumedAt: now - 50_000, sessionRevokedAt: now }, 'REVOKED'],
  ] as const)('%s', (_name, state, outcome) => {
    expect(decideRefresh(state, now, 10_000, maxLifetime)).toEqual({ outcome });
  });

  it("issues a refresh token that lives no longer than what is left of the session's lifetime", () => {
    const thirtyDays = 30 * 24 * 3600;
    expect(refreshTtlSeconds(thirtyDays, now - day, now, maxLifetime)).toBe(thirtyDays);
    expect(refreshTtlSeconds(thirtyDays, now - 80 * day, now, maxLifetime)).toBe(10 * 24 * 3600);
    expect(refreshTtlSeconds(thirtyDays, now - maxLifetime + 500, now, maxLifetime)).toBe(1);
  });
});
