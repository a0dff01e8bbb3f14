import type { Permission, UserView } from '../domain/accounts';

/**
 * The signed-in user and their permissions, cached in memory and in localStorage so every page
 * (and a reload) knows them without a round trip. Refreshed on sign-in, on every token refresh
 * and on /api/auth/me. Only a definitive refresh failure ends the session ("Session expired").
 */
export type SessionUser = UserView;
export type SessionState =
  { status: 'signed-out'; user: null } | { status: 'signed-in'; user: SessionUser } | { status: 'expired'; user: null };

export type RefreshOutcome = 'refreshed' | 'expired';

const storageKey = 'podium.session-user';
const definitiveRefreshFailures = new Set([
  'SESSION_EXPIRED',
  'SESSION_REVOKED',
  'REFRESH_TOKEN_REUSED',
  'INVALID_REFRESH_TOKEN',
  'REFRESH_TOKEN_REQUIRED',
]);

/** A refresh that failed for a reason that may pass (network, 5xx): the session is kept. */
export class TransientRefreshError extends Error {}

class SessionStore extends EventTarget {
  private current: SessionState = { status: 'signed-out', user: null };
  private refreshing: Promise<RefreshOutcome> | null = null;

  constructor() {
    super();
    const saved = globalThis.localStorage?.getItem(storageKey);
    if (saved) {
      try {
        this.current = { status: 'signed-in', user: JSON.parse(saved) as SessionUser };
      } catch {
        globalThis.localStorage.removeItem(storageKey);
      }
    }
  }

  get state(): SessionState {
    return this.current;
  }

  hasPermission(permission: Permission): boolean {
    return this.current.user?.permissions.includes(permission) ?? false;
  }

  signedIn(user: SessionUser) {
    localStorage.setItem(storageKey, JSON.stringify(user));
    this.set({ status: 'signed-in', user });
  }

  signedOut() {
    localStorage.removeItem(storageKey);
    this.set({ status: 'signed-out', user: null });
  }

  /** The deliberate end: the name goes, and the page says why. */
  expired() {
    localStorage.removeItem(storageKey);
    this.set({ status: 'expired', user: null });
  }

  /**
   * One refresh for everyone: calls that fail with an expired access token at the same time
   * all wait for the same POST /api/auth/refresh.
   */
  refresh(): Promise<RefreshOutcome> {
    this.refreshing ??= this.refreshOnce().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refreshOnce(): Promise<RefreshOutcome> {
    let response: Response;
    try {
      response = await fetch('/api/auth/refresh', {
        method: 'POST',
        headers: { 'x-podium-token-transport': 'cookie' },
        credentials: 'same-origin',
      });
    } catch (error) {
      throw new TransientRefreshError(`Could not reach the server: ${(error as Error).message}`);
    }
    const body = await response.json().catch(() => null);
    if (response.ok) {
      this.signedIn(body.user as SessionUser);
      return 'refreshed';
    }
    // Another tab refreshed a moment ago: the browser already holds its new cookies.
    if (response.status === 409 && body?.error?.code === 'REFRESH_ALREADY_ROTATED') return 'refreshed';
    if (response.status === 401 && definitiveRefreshFailures.has(body?.error?.code)) {
      this.expired();
      return 'expired';
    }
    throw new TransientRefreshError(body?.error?.message ?? `The server answered ${response.status}`);
  }

  private set(state: SessionState) {
    this.current = state;
    this.dispatchEvent(new Event('change'));
  }
}

export const session = new SessionStore();
