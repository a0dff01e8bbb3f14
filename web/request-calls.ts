import { answerOf, ApiClientError, apiCall } from './api-client';
import { session } from './session-store';

/** Where the browser keeps its anonymous session's token (made on first use, kept across visits). */
const tokenKey = 'podium.anonymousToken';

/**
 * A call to the request API as whoever is here: the signed-in user (cookies, refreshed as the
 * other pages do), else the browser's anonymous session, made on first use and kept.
 */
export async function requestCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  if (session.state.status === 'signed-in') return apiCall<T>(method, path, body);
  const response = await requestFetch(path, {
    method,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return answerOf<T>(response);
}

/** Uploads bytes as a payload (`POST /api/payloads`, docs/payloads.md) and gives its id. */
export async function uploadPayload(body: Blob): Promise<string> {
  const response = await requestFetch('/api/payloads', {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/octet-stream' },
    body,
  });
  return (await answerOf<{ id: string }>(response)).id;
}

/**
 * The raw answer to a fetch as whoever is here, for what is not one JSON body (an event stream).
 * A signed-in user's expired access token is refreshed once; an anonymous token the API no
 * longer knows is replaced once.
 */
export async function requestFetch(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  if (session.state.status === 'signed-in') {
    const asUser = () =>
      fetch(path, {
        ...init,
        credentials: 'same-origin',
        headers: { ...init.headers, 'x-podium-token-transport': 'cookie' },
      });
    const response = await asUser();
    if (response.status !== 401 || (await session.refresh()) === 'expired') return response;
    return asUser();
  }
  for (let fresh = false; ; fresh = true) {
    const token = fresh ? await newAnonymousToken() : (localStorage.getItem(tokenKey) ?? (await newAnonymousToken()));
    const response = await fetch(path, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });
    if (response.status === 401 && !fresh) continue;
    return response;
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
