import { randomUUID } from 'node:crypto';
import { echoInput, useTestStack } from '../support/test-stack';

const stack = useTestStack();

const password = 'a long passphrase 42';
/** Signs up in the browser's way; the `Cookie` header its cookies make. */
async function browserSignIn(): Promise<string> {
  const username = `browser${randomUUID().slice(0, 8)}`;
  await stack.api.signUp({ username });
  const response = await stack.api.call('POST', '/api/auth/login', {
    json: { username, password },
    headers: { 'x-podium-token-transport': 'cookie' },
  });
  expect(response.status).toBe(200);
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ');
}

describe('what a browser is protected from', () => {
  it('pages and answers forbid framing, sniffing and script from elsewhere', async () => {
    for (const path of ['/', '/api/health', '/api/requests/not-an-id']) {
      const response = await fetch(`${stack.baseUrl}${path}`);
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
  });

  it('tokens are never cached: sign-up, sign-in, refresh and anonymous sessions answer no-store', async () => {
    const username = `nostore${randomUUID().slice(0, 8)}`;
    const signedUp = await stack.api.call('POST', '/api/auth/signup', {
      json: { username, email: `${username}@example.com`, password },
    });
    const signedIn = await stack.api.call('POST', '/api/auth/login', { json: { username, password } });
    const refreshed = await stack.api.call('POST', '/api/auth/refresh', {
      json: { refreshToken: signedIn.body.refreshToken },
    });
    const anonymous = await stack.api.call('POST', '/api/sessions/anonymous');
    expect([signedUp.status, signedIn.status, refreshed.status, anonymous.status]).toEqual([201, 200, 200, 201]);
    for (const response of [signedUp, signedIn, refreshed, anonymous])
      expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it("a change made with the browser's cookies needs the pages' own header: a sibling site's form cannot cancel, log out or refresh", async () => {
    const cookie = await browserSignIn();
    const submitted = await stack.api.call('POST', '/api/requests', {
      json: { model: 'echo', input: { ...echoInput, parameters: { delay_ms: 5_000 } } },
      headers: { cookie, 'x-podium-token-transport': 'cookie' },
    });
    expect(submitted.status).toBe(202);
    const id = submitted.body.id as string;

    for (const path of [`/api/requests/${id}/cancel`, '/api/auth/logout', '/api/auth/refresh']) {
      const forged = await stack.api.call('POST', path, { headers: { cookie } });
      expect(forged.status).toBe(403);
      expect(forged.body.error.code).toBe('COOKIE_WITHOUT_TRANSPORT_HEADER');
    }
    // Nothing happened: the request runs on, and the session still works.
    const read = await stack.api.call('GET', `/api/requests/${id}`, { headers: { cookie } });
    expect(read.status).toBe(200);
    expect(read.body.status).not.toBe('CANCELLED');

    const cancelled = await stack.api.call('POST', `/api/requests/${id}/cancel`, {
      headers: { cookie, 'x-podium-token-transport': 'cookie' },
    });
    expect(cancelled.status).toBeLessThan(300);
  });
});
