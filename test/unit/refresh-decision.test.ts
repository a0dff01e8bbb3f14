import { decideRefresh, type RefreshTokenState } from '../../domain/refresh-decision';

const now = 1_000_000;
const fresh: RefreshTokenState = { tokenExpiresAt: now + 60_000, consumedAt: null, sessionRevokedAt: null };

describe('refresh-token rotation', () => {
  it.each([
    ['an unused live token rotates', fresh, 'ROTATE'],
    ['an expired token is refused', { ...fresh, tokenExpiresAt: now }, 'EXPIRED'],
    ['a revoked family is refused', { ...fresh, sessionRevokedAt: now - 1 }, 'REVOKED'],
    ['a token used moments ago is a race, not theft', { ...fresh, consumedAt: now - 5_000 }, 'ALREADY_ROTATED'],
    ['a token used long ago revokes the family', { ...fresh, consumedAt: now - 10_001 }, 'REUSED_REVOKE_FAMILY'],
    ['revocation wins over everything', { ...fresh, consumedAt: now - 50_000, sessionRevokedAt: now }, 'REVOKED'],
  ] as const)('%s', (_name, state, outcome) => {
    expect(decideRefresh(state, now, 10_000)).toEqual({ outcome });
  });
});
