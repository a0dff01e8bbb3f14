import { SessionCache } from '../../api/auth/session-cache';
import type { Principal } from '../../domain/accounts';

const user = (sessionId: string, userId: string): Principal => ({
  kind: 'user',
  sessionId,
  userId,
  username: 'ada',
  email: 'ada@example.com',
  permissions: [],
});
const anonymous: Principal = { kind: 'anonymous', sessionId: '00000000-0000-4000-8000-00000000000a' };
const hash = (n: number) => Buffer.alloc(32, n);

describe('the session cache', () => {
  it('answers for a token until the token expires', () => {
    const cache = new SessionCache({ maxEntries: 10, ttlMs: 60_000 });
    cache.set(hash(1), anonymous, 2_000, 1_000);
    expect(cache.get(hash(1), 1_500)).toEqual(anonymous);
    expect(cache.get(hash(1), 2_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never stores an already expired token', () => {
    const cache = new SessionCache({ maxEntries: 10, ttlMs: 60_000 });
    cache.set(hash(1), anonymous, 1_000, 1_000);
    expect(cache.size).toBe(0);
  });

  it('forgets every token of a session, or of a user', () => {
    const cache = new SessionCache({ maxEntries: 10, ttlMs: 60_000 });
    const far = Date.now() + 60_000;
    cache.set(hash(1), user('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000009'), far);
    cache.set(hash(2), user('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001'), far);
    cache.set(hash(3), user('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001'), far);
    cache.set(hash(4), anonymous, far);
    cache.forgetSession('00000000-0000-4000-8000-000000000001');
    expect([1, 2, 3, 4].map((n) => cache.get(hash(n)) !== undefined)).toEqual([false, false, true, true]);
    cache.forgetUser('00000000-0000-4000-8000-000000000001');
    expect([3, 4].map((n) => cache.get(hash(n)) !== undefined)).toEqual([false, true]);
  });

  it('is bounded: the least recently used entry goes first', () => {
    const cache = new SessionCache({ maxEntries: 2, ttlMs: 60_000 });
    const far = Date.now() + 60_000;
    cache.set(hash(1), anonymous, far);
    cache.set(hash(2), anonymous, far);
    cache.get(hash(1));
    cache.set(hash(3), anonymous, far);
    expect([1, 2, 3].map((n) => cache.get(hash(n)) !== undefined)).toEqual([true, false, true]);
  });
});
