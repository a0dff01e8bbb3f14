import { errorFromAnswer, Unauthorized } from './errors';

/** Who a call is made as. Podium's own kind is `TokenCredentials`; the web UI brings cookie sessions. */
export interface Credentials {
  /** Makes a call someone's: adds its header (or, in a browser, asks for its cookies); may first make a session. */
  authorise(init: RequestInit, headers: Headers): void | Promise<void>;
  /**
   * After a 401: true when renewed, so the call is sent again; false when there is nothing to
   * renew with (the 401 is the answer). Throws when the session has ended for good.
   */
  renew(): Promise<boolean>;
}

/** The answer of `POST /api/auth/login` and `/api/auth/refresh` when tokens travel in the body. */
export type SignedIn = { accessToken: string; refreshToken: string };

/**
 * A bearer token: an anonymous session's, or a signed-in user's access token with the refresh
 * token that renews it as it expires (one renewal however many calls meet the 401 together).
 */
export class TokenCredentials implements Credentials {
  private renewing: Promise<boolean> | null = null;

  constructor(
    public token?: string,
    public refreshToken?: string,
    /** Sends `POST /api/auth/refresh` (the client that holds these credentials gives it). */
    private readonly refresh?: (refreshToken: string) => Promise<Response>,
  ) {}

  authorise(_init: RequestInit, headers: Headers): void {
    if (this.token) headers.set('authorization', `Bearer ${this.token}`);
  }

  renew(): Promise<boolean> {
    if (!this.refreshToken || !this.refresh) return Promise.resolve(false);
    this.renewing ??= this.renewOnce(this.refreshToken, this.refresh).finally(() => (this.renewing = null));
    return this.renewing;
  }

  private async renewOnce(refreshToken: string, refresh: (refreshToken: string) => Promise<Response>) {
    const response = await refresh(refreshToken);
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const refused = errorFromAnswer(response.status, body);
      if (!(refused instanceof Unauthorized)) throw refused; // it may pass: the tokens are kept
      throw new Unauthorized(refused.code, `The session has ended; sign in again (${refused.message})`, {
        status: 401,
      });
    }
    ({ accessToken: this.token, refreshToken: this.refreshToken } = body as SignedIn);
    return true;
  }
}
