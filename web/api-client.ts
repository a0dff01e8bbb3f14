/** The one way the pages talk to the API: JSON in, JSON out, errors as `ApiClientError`. */
export class ApiClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = body?.error ?? {};
    throw new ApiClientError(response.status, error.code ?? 'HTTP_ERROR', error.message ?? response.statusText);
  }
  return body as T;
}

export type CatalogModel = { id: string; displayName: string; description: string; containerImage: string };
