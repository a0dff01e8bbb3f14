import { session } from './session-store';

/** An error answer of the API: its status, code and message. */
export class ApiClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** What the API said beyond the message: the fields a VALIDATION_FAILED names, say. */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** What a page shows for a failed call: the API's message (with its code if asked), or that the server is unreachable. */
export function errorMessage(error: unknown, options: { withCode?: boolean } = {}): string {
  if (!(error instanceof ApiClientError)) return 'Could not reach the server';
  return options.withCode ? `${error.code}: ${error.message}` : error.message;
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      'x-podium-token-transport': 'cookie',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** An answer's JSON (none for 204), or its error as an ApiClientError. */
export async function answerOf<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T;
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = body?.error ?? {};
    throw new ApiClientError(
      response.status,
      error.code ?? 'HTTP_ERROR',
      error.message ?? response.statusText,
      error.details,
    );
  }
  return body as T;
}

/**
 * The one way the pages talk to the API. An expired access token is refreshed (once, however
 * many calls hit it together) and the call retried; only a definitive refresh failure ends
 * the session, and that call then fails with SESSION_EXPIRED.
 */
export async function apiCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body);
  // Whatever the 401 says (expired, unknown or missing token), the refresh token decides
  // whether the session lives on.
  if (response.status === 401 && session.state.status === 'signed-in') {
    if ((await session.refresh()) === 'expired') {
      throw new ApiClientError(401, 'SESSION_EXPIRED', 'Your session has expired; sign in again');
    }
    return answerOf<T>(await send(method, path, body));
  }
  return answerOf<T>(response);
}

export const getJson = <T>(path: string) => apiCall<T>('GET', path);
