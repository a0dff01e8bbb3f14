import { echoInput, useTestStack } from '../support/test-stack';

let token: string;
const ids: string[] = [];
const stack = useTestStack();
beforeAll(async () => {
  token = await stack.api.anonymousToken();
  for (const model of ['echo', 'fail', 'echo', 'echo', 'fail']) {
    const { body } = await stack.api.submit(token, { model, input: echoInput });
    ids.push(body.id);
  }
  for (const id of ids) await stack.api.waitUntilFinal(token, id);
});

describe('GET /api/requests: my requests, newest first, paginated', () => {
  it('walks every page once with nextCursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response: { status: number; body: any } = await stack.api.call(
        'GET',
        `/api/requests?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { token },
      );
      expect(response.status).toBe(200);
      expect(response.body.requests.length).toBeLessThanOrEqual(2);
      seen.push(...response.body.requests.map((r: { id: string }) => r.id));
      cursor = response.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
  });

  it('filters by status and leaves results out of the list', async () => {
    const { body } = await stack.api.call('GET', '/api/requests?status=FAILED', { token });
    expect(body.requests.map((r: { id: string }) => r.id)).toEqual([ids[4], ids[1]]);
    expect(body.requests[0]).not.toHaveProperty('result');
    expect(body.requests[0].error.code).toBe('MODEL_ERROR');
  });

  it("shows nothing of another session's requests", async () => {
    const stranger = await stack.api.anonymousToken();
    const { body } = await stack.api.call('GET', '/api/requests', { token: stranger });
    expect(body).toEqual({ requests: [], nextCursor: null });
    const borrowedCursor = await stack.api.call('GET', `/api/requests?cursor=${ids[2]}`, { token: stranger });
    expect(borrowedCursor.status).toBe(400);
    expect(borrowedCursor.body.error.code).toBe('INVALID_CURSOR');
  });

  it.each([
    ['limit=0', 'VALIDATION_FAILED'],
    ['limit=101', 'VALIDATION_FAILED'],
    ['status=DONE', 'VALIDATION_FAILED'],
    ['cursor=abc', 'VALIDATION_FAILED'],
    ['sort=asc', 'VALIDATION_FAILED'],
  ])('rejects ?%s with 400 %s', async (query, code) => {
    const response = await stack.api.call('GET', `/api/requests?${query}`, { token });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe(code);
  });
});
