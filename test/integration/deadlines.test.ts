import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import { addTestModel } from '../support/models';
import { eventually } from '../support/eventually';
import { echoInput, useTestStack } from '../support/test-stack';

const stack = useTestStack();
let user: string;

beforeAll(async () => {
  user = (await stack.api.signUp({ username: `due${randomUUID().slice(0, 8)}` })).accessToken;
});

const count = z.object({ n: z.number() });
const requestRows = () => stack.db.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM work_requests`);
const slowInput = (ms: number) => ({ ...echoInput, parameters: { delay_ms: ms } });
const get = async (id: string, token = user) => (await stack.api.call('GET', `/api/requests/${id}`, { token })).body;

/** A model with one slot, held by a slow request (cancelled by the test when done). */
async function blockedModel(id: string, settings: { maxWaiting?: number } = {}) {
  await addTestModel(stack.db, { id, maxInstances: 1, maxConcurrency: 1, keepWarmSeconds: 60, ...settings });
  const blocker = await stack.api.submitAccepted(user, { model: id, input: slowInput(60_000) });
  await eventually(
    async () => (await get(blocker)).status,
    (status) => status === 'PROCESSING',
    60_000,
  );
  return blocker;
}

const cancel = async (id: string, token = user) => {
  await stack.api.call('POST', `/api/requests/${id}/cancel`, { token });
  return stack.api.waitForEnd(token, id, 60_000);
};

const leases = (requestId: string) =>
  stack.db.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM instance_leases WHERE request_id = ${requestId}`);

describe('deadlines', () => {
  it('refuses a deadline that is unreadable, past, too far, or given twice, and queues nothing', async () => {
    const before = await requestRows();
    const submit = (deadline: unknown, headers?: Record<string, string>) =>
      stack.api.submit(user, { model: 'echo', input: echoInput, deadline }, headers);
    expect((await submit('soonish')).body.error).toMatchObject({
      code: 'INVALID_DEADLINE',
      message: expect.stringContaining('30s'),
    });
    expect((await submit('2020-01-01T00:00:00Z')).body.error.code).toBe('DEADLINE_IN_PAST');
    expect((await submit('0s')).body.error.code).toBe('DEADLINE_IN_PAST');
    expect((await submit('25h')).body.error.code).toBe('DEADLINE_TOO_FAR');
    expect((await submit('30s', { 'cancel-after': '30s' })).body.error.code).toBe('INVALID_DEADLINE');
    const front = await stack.api.call('POST', '/v2/models/echo/infer', {
      token: user,
      json: echoInput,
      headers: { 'cancel-after': 'tomorrow' },
    });
    expect(front.status).toBe(400);
    expect(front.body).toMatchObject({ code: 'INVALID_DEADLINE' });
    expect(await requestRows()).toBe(before);
  });

  it('ends a request that could not start by its deadline EXPIRED, without an instance', async () => {
    const blocker = await blockedModel('due-blocked');
    const { status, body } = await stack.api.submit(
      user,
      { model: 'due-blocked', input: echoInput },
      { 'cancel-after': '2s' },
    );
    expect(status).toBe(202);
    expect(Date.parse(body.deadline) - Date.parse(body.createdAt)).toBeCloseTo(2_000, -2);
    const ended = await stack.api.waitForEnd(user, body.id, 60_000);
    expect(ended).toMatchObject({ status: 'FAILED', startedAt: null, error: { code: 'EXPIRED' } });
    expect(await leases(body.id)).toBe(0);
    // Its stats row keeps the deadline, and so does the admin's list.
    const stats = await stack.db.one(sql.type(z.object({ deadline: z.number().nullable(), success: z.boolean() }))`
      SELECT deadline_at AS deadline, result_success AS success FROM request_stats WHERE request_id = ${body.id}`);
    expect(stats).toEqual({ deadline: Date.parse(body.deadline), success: false });
    await cancel(blocker);
  }, 120_000);

  it('cuts a request still running at its deadline: DEADLINE_EXCEEDED, and the slot goes back', async () => {
    await addTestModel(stack.db, { id: 'due-cut', maxInstances: 1, maxConcurrency: 1, keepWarmSeconds: 60 });
    // Warm first, so the request starts well before its deadline and is cut there.
    expect(
      (await stack.api.waitForEnd(user, await stack.api.submitAccepted(user, { model: 'due-cut', input: echoInput })))
        .status,
    ).toBe('COMPLETE');
    const { body } = await stack.api.submit(user, { model: 'due-cut', input: slowInput(60_000), deadline: '4s' });
    const ended = await stack.api.waitForEnd(user, body.id, 60_000);
    expect(ended).toMatchObject({ status: 'FAILED', error: { code: 'DEADLINE_EXCEEDED' } });
    expect(ended.startedAt).not.toBeNull();
    expect(Date.parse(ended.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(body.deadline));
    // The instance serves the next one.
    const next = await stack.api.submitAccepted(user, { model: 'due-cut', input: echoInput });
    expect((await stack.api.waitForEnd(user, next, 60_000)).status).toBe('COMPLETE');
  }, 120_000);

  it('answers 429 with the estimate when the line says the deadline cannot be met, and queues nothing', async () => {
    await addTestModel(stack.db, { id: 'due-measured', maxInstances: 1, maxConcurrency: 1, keepWarmSeconds: 60 });
    // Two answers of about a second: the model's measured service time.
    for (let i = 0; i < 2; i++) {
      const id = await stack.api.submitAccepted(user, { model: 'due-measured', input: slowInput(1_000) });
      expect((await stack.api.waitForEnd(user, id, 60_000)).status).toBe('COMPLETE');
    }
    const blocker = await stack.api.submitAccepted(user, { model: 'due-measured', input: slowInput(60_000) });
    await eventually(
      async () => (await get(blocker)).status,
      (status) => status === 'PROCESSING',
      60_000,
    );
    const before = await requestRows();
    const refused = await stack.api.submit(user, { model: 'due-measured', input: echoInput, deadline: '1500ms' });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({
      code: 'DEADLINE_UNREACHABLE',
      details: { position: 1, estimatedStartAt: expect.any(String), serviceSeconds: expect.any(Number) },
    });
    expect(refused.body.error.details.serviceSeconds).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await requestRows()).toBe(before);
    // With time enough it waits, and says where it is and when it should start.
    const { status, body } = await stack.api.submit(user, { model: 'due-measured', input: echoInput, deadline: '5m' });
    expect(status).toBe(202);
    const queued = await eventually(
      () => get(body.id),
      (request) => request.queue !== undefined,
      30_000,
    );
    expect(queued.queue.position).toBe(1);
    expect(Date.parse(queued.queue.estimatedStartAt)).toBeGreaterThan(Date.now());
    await cancel(blocker);
    expect((await stack.api.waitForEnd(user, body.id, 60_000)).status).toBe('COMPLETE');
  }, 120_000);
});

describe('shares of a model’s line', () => {
  it('gives each owner at most its share of max_waiting, with room for one more owner', async () => {
    const blocker = await blockedModel('share-echo', { maxWaiting: 4 });
    const anonymous = await stack.api.anonymousToken();
    const other = (await stack.api.signUp({ username: `share${randomUUID().slice(0, 8)}` })).accessToken;
    // The blocker's owner (a user) waits for nothing yet; the anonymous owner alone may hold
    // 4 / (0 others + 2) = 2 of the line.
    const mine = [
      await stack.api.submitAccepted(anonymous, { model: 'share-echo', input: echoInput }),
      await stack.api.submitAccepted(anonymous, { model: 'share-echo', input: echoInput }),
    ];
    const before = await requestRows();
    const refused = await stack.api.submit(anonymous, { model: 'share-echo', input: echoInput });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'QUEUE_SHARE_FULL', details: { mine: 2, share: 2, owners: 1 } });
    expect(await requestRows()).toBe(before);
    // Another owner still finds room.
    const theirs = await stack.api.submitAccepted(other, { model: 'share-echo', input: echoInput });
    for (const id of mine) await cancel(id, anonymous);
    await cancel(theirs, other);
    await cancel(blocker);
  }, 120_000);
});
