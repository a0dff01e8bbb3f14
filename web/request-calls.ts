import { ApiClientError, apiCall } from './api-client';
import { session } from './session-store';

/** Where the browser keeps its anonymous session's token (made on first use, kept across visits). */
const tokenKey = 'podium.anonymousToken';

/**
 * A call to the request API as whoever is here: the signed-in user (cookies, refreshed as the
 * other pages do), else the browser's anonymous session, made on first use and kept. A token
 * the API no longer knows (expired) is replaced once.
 */
export async function requestCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  if (session.state.status === 'signed-in') return apiCall<T>(method, path, body);
  for (let fresh = false; ; fresh = true) {
    const token = fresh ? await newAnonymousToken() : (localStorage.getItem(tokenKey) ?? (await newAnonymousToken()));
    const response = await fetch(path, {
      method,
      headers: {
        accept: 'application/json',
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401 && !fresh) continue;
    const answer = response.status === 204 ? undefined : await response.json().catch(() => null);
    if (!response.ok) {
      const error = answer?.error ?? {};
      throw new ApiClientError(
        response.status,
        error.code ?? 'HTTP_ERROR',
        error.message ?? response.statusText,
        error.details,
      );
    }
    return answer as T;
  }
}

async function newAnonymousToken(): Promise<string> {
  const response = await fetch('/api/sessions/anonymous', { method: 'POST' });
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    const error = answer?.error ?? {};
    throw new ApiClientError(
      response.status,
      error.code ?? 'HTTP_ERROR',
      error.code === 'TOO_MANY_SESSIONS'
        ? `${error.message}. Sign in, or come back later.`
        : (error.message ?? response.statusText),
    );
  }
  localStorage.setItem(tokenKey, answer.token as string);
  return answer.token as string;
}
