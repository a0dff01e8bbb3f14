import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isFinal } from '../../domain/request-status';
import type { WorkRequestView } from '../../domain/work-request';

export type ApiResponse = { status: number; headers: Headers; body: any };
export type CallOptions = { token?: string; json?: unknown; body?: string; headers?: Record<string, string> };

/** Speaks HTTP to one API instance, the way a curl user would. */
export function apiClient(baseUrl: string) {
  const api = {
    baseUrl,
    async call(method: string, path: string, init: CallOptions = {}): Promise<ApiResponse> {
      const headers: Record<string, string> = { ...init.headers };
      if (init.token) headers.authorization = `Bearer ${init.token}`;
      if (init.json !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
      });
      const text = await response.text();
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body };
    },
    async anonymousToken(): Promise<string> {
      const response = await api.call('POST', '/api/sessions/anonymous');
      if (response.status !== 201) throw new Error(`no session: ${JSON.stringify(response.body)}`);
      return response.body.token;
    },
    async submit(token: string, json: unknown, headers?: Record<string, string>) {
      return api.call('POST', '/api/requests', { token, json, headers });
    },
    /**
     * Submits as a careful client does under load: one Idempotency-Key for every try, and a 503
     * (the API overloaded, or a dependency briefly out of reach) tried again after its
     * Retry-After. Returns the accepted request's id; throws with any other answer.
     */
    async submitAccepted(token: string, json: unknown, { tries = 30 }: { tries?: number } = {}): Promise<string> {
      const headers = { 'idempotency-key': randomUUID() };
      for (let attempt = 1; ; attempt++) {
        const response = await api.submit(token, json, headers);
        if (response.status === 202 || response.status === 200) return response.body.id as string;
        if (response.status !== 503 || attempt >= tries) {
          throw new Error(`submit: ${response.status} ${JSON.stringify(response.body)} (try ${attempt})`);
        }
        await sleep(Number(response.headers.get('retry-after') ?? 0.2) * 1000);
      }
    },
    /** Signs up and returns the new account's tokens. */
    async signUp(account: { username: string; email?: string; password?: string }) {
      const response = await api.call('POST', '/api/auth/signup', {
        json: { email: `${account.username}@example.com`, password: 'a long passphrase 42', ...account },
      });
      if (response.status !== 201) throw new Error(`signup: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body as {
        user: { id: string; username: string; permissions: string[] };
        accessToken: string;
        refreshToken: string;
      };
    },
    async login(username: string, password = 'a long passphrase 42') {
      const response = await api.call('POST', '/api/auth/login', { json: { username, password } });
      if (response.status !== 200) throw new Error(`login: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body as {
        user: { id: string; username: string; permissions: string[] };
        accessToken: string;
        refreshToken: string;
      };
    },
    /**
     * Waits for the request's end as a client that only wants the end does: long polls
     * (`?wait`), a 503 tried again after its Retry-After. The request as it ended.
     */
    async waitForEnd(token: string, id: string, timeoutMs = 60_000): Promise<WorkRequestView> {
      const deadline = Date.now() + timeoutMs;
      let last: ApiResponse | null = null;
      while (Date.now() < deadline) {
        const waitSeconds = Math.max(1, Math.min(20, Math.floor((deadline - Date.now()) / 1000)));
        last = await api.call('GET', `/api/requests/${id}?wait=${waitSeconds}`, { token });
        if (last.status === 503) {
          await sleep(Number(last.headers.get('retry-after') ?? 0.2) * 1000);
          continue;
        }
        if (last.status !== 200) throw new Error(`GET request ${id}: ${last.status} ${JSON.stringify(last.body)}`);
        if (isFinal((last.body as WorkRequestView).status)) return last.body as WorkRequestView;
      }
      throw new Error(
        `request ${id} not final after ${timeoutMs} ms; last answer ${last?.status} ${JSON.stringify(last?.body)}`,
      );
    },
    /**
     * Polls the request until it is final; returns every status seen on the way. A 503 (an API
     * whose database pool is busier than its query deadline, under a test's load) is tried
     * again a little later, as it says.
     */
    async waitUntilFinal(token: string, id: string, timeoutMs = 30_000) {
      const seen: string[] = [];
      let refused = 0;
      let lastRefusal: unknown = null;
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const { status, body } = await api.call('GET', `/api/requests/${id}`, { token });
        if (status === 503) {
          refused++;
          lastRefusal = body;
          await sleep(100);
          continue;
        }
        if (status !== 200) throw new Error(`GET request ${id}: ${status} ${JSON.stringify(body)}`);
        const request = body as WorkRequestView;
        if (seen.at(-1) !== request.status) seen.push(request.status);
        if (isFinal(request.status)) return { request, seen };
        await sleep(20);
      }
      const refusals = refused ? `; ${refused} answers were 503, the last ${JSON.stringify(lastRefusal)}` : '';
      throw new Error(`request ${id} not final after ${timeoutMs} ms; statuses seen: ${seen.join(' → ')}${refusals}`);
    },
  };
  return api;
}
export type ApiClient = ReturnType<typeof apiClient>;
