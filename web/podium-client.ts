import { Podium, PodiumError, Unauthorized, type Credentials } from '../clients/typescript/src';
import { session } from './session-store';

/** Where the browser keeps its anonymous session's token (made on first use, kept across visits). */
const tokenKey = 'podium.anonymousToken';

/**
 * The signed-in user: the cookies the API set at sign-in (HttpOnly, so the page never holds a
 * token), renewed through the session store, which also tells every page the outcome. Only a
 * definitive refresh failure ends the session, and that call then fails with SESSION_EXPIRED.
 */
const signedInUser: Credentials = {
  authorise(init, headers) {
    init.credentials = 'same-origin';
    headers.set('x-podium-token-transport', 'cookie');
  },
  async renew() {
    // Whatever the 401 says (expired, unknown or missing token), the refresh token decides.
    if (session.state.status !== 'signed-in') return false;
    if ((await session.refresh()) === 'expired') {
      throw new Unauthorized('SESSION_EXPIRED', 'Your session has expired; sign in again', { status: 401 });
    }
    return true;
  },
};

const nobody = new Podium({ baseUrl: '' });

/**
 * The browser's anonymous session: its token from localStorage, made on first use (one for the
 * calls that need it together), and made again when the API no longer knows it.
 */
const browserSession: Credentials = {
  async authorise(_init, headers) {
    const token = localStorage.getItem(tokenKey) ?? (await newSessionOnce());
    headers.set('authorization', `Bearer ${token}`);
  },
  async renew() {
    await newSessionOnce();
    return true;
  },
};

let makingSession: Promise<string> | null = null;
const newSessionOnce = () => (makingSession ??= newAnonymousSession().finally(() => (makingSession = null)));

async function newAnonymousSession(): Promise<string> {
  try {
    const { token } = await nobody.call<{ token: string }>('POST', '/api/sessions/anonymous', { anonymous: true });
    localStorage.setItem(tokenKey, token);
    return token;
  } catch (error) {
    if (error instanceof PodiumError && error.code === 'TOO_MANY_SESSIONS') {
      throw new PodiumError(error.code, `${error.message}. Sign in, or come back later.`, error.options);
    }
    throw error;
  }
}

const whoeverIsHere: Credentials = {
  authorise: (init, headers) =>
    (session.state.status === 'signed-in' ? signedInUser : browserSession).authorise(init, headers),
  renew: () => (session.state.status === 'signed-in' ? signedInUser : browserSession).renew(),
};

/** The pages' one way to the API (clients/typescript): as the signed-in user, for their pages and the admin pages. */
export const api = new Podium({ baseUrl: '', credentials: signedInUser, maxRetries: 2, timeoutMs: 60_000 });

/** Requests as whoever is here: the signed-in user, else the browser's anonymous session. */
export const requests = new Podium({ baseUrl: '', credentials: whoeverIsHere, maxRetries: 2, timeoutMs: 60_000 });

/** What a page shows for a failed call: the API's message (with its code if asked), or that the server is unreachable. */
export function errorMessage(error: unknown, options: { withCode?: boolean } = {}): string {
  if (!(error instanceof PodiumError)) return 'Could not reach the server';
  return options.withCode ? `${error.code}: ${error.message}` : error.message;
}
export { PodiumError } from '../clients/typescript/src';
