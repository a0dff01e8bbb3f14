import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import { addTestModel } from '../support/models';
import { eventually } from '../support/eventually';
import { lineOvertakes } from '../support/line-order';
import { echoInput, useTestStack } from '../support/test-stack';

const stack = useTestStack();
let user: { id: string; token: string };
let admin: string;

beforeAll(async () => {
  const account = await stack.api.signUp({ username: `prio${randomUUID().slice(0, 8)}` });
  user = { id: account.user.id, token: account.accessToken };
  admin = (await stack.signUpAdmin()).token;
});

const count = z.object({ n: z.number() });
const requestRows = () => stack.db.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM work_requests`);
const grant = (ceiling: string, reason = 'runs the nightly reports') =>
  stack.api.call('PUT', `/api/admin/users/${user.id}/priority-ceiling`, { token: admin, json: { ceiling, reason } });

/**
 * A model with one slot, held by a slow request of the user's while the test queues others
 * behind it; and how many wait for it.
 */
async function blockedModel(id: string) {
  await addTestModel(stack.db, { id, maxInstances: 1, maxConcurrency: 1, keepWarmSeconds: 60 });
  const blocker = await stack.api.submitAccepted(user.token, {
    model: id,
    input: { ...echoInput, parameters: { delay_ms: 6_000 } },
  });
  await eventually(
    async () => (await stack.api.call('GET', `/api/requests/${blocker}`, { token: user.token })).body.status,
    (status) => status === 'PROCESSING',
    60_000,
  );
  const waiting = () =>
    stack.db.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM slot_waiters WHERE model_id = ${id}`);
  return { blocker, waiting };
}

/**
 * Queues each batch's requests in turn (user's first) behind the blocked model's slow request,
 * waits until all have completed, and names the batch of each, in the order they were served.
 */
async function servedInTurn(modelId: string, batches: { token: string; who: string; count: number }[]) {
  const { blocker, waiting } = await blockedModel(modelId);
  const owners = new Map<string, { who: string; token: string }>();
  for (const { token, who, count } of batches) {
    for (let i = 0; i < count; i++) {
      const id = await stack.api.submitAccepted(token, { model: modelId, input: echoInput });
      owners.set(id, { who, token });
      await eventually(waiting, (n) => n === owners.size, 30_000);
    }
  }
  for (const [id, { token }] of [[blocker, { who: 'blocker', token: user.token }], ...owners] as const) {
    expect((await stack.api.waitForEnd(token, id, 60_000)).status).toBe('COMPLETE');
  }
  const served = await stack.db.anyFirst(sql.type(z.object({ id: z.string() }))`
    SELECT request_id AS id FROM instance_leases
     WHERE request_id = ANY(${sql.array([...owners.keys()], 'uuid')}) ORDER BY leased_at`);
  return served.map((id) => owners.get(id)!.who);
}

describe('request priorities', () => {
  it('refuses an unknown priority, or one above the caller’s ceiling, and queues nothing', async () => {
    const anonymous = await stack.api.anonymousToken();
    const before = await requestRows();
    const unknown = await stack.api.submit(anonymous, { model: 'echo', input: echoInput, priority: 'urgent' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('high, normal or low'),
    });
    const anonymousHigh = await stack.api.submit(anonymous, { model: 'echo', input: echoInput, priority: 'high' });
    expect(anonymousHigh.status).toBe(400);
    expect(anonymousHigh.body.error).toMatchObject({ code: 'PRIORITY_ABOVE_CEILING', details: { ceiling: 'normal' } });
    const userHigh = await stack.api.submit(user.token, { model: 'echo', input: echoInput, priority: 'high' });
    expect(userHigh.body.error.code).toBe('PRIORITY_ABOVE_CEILING');
    // The front doors, whose bodies are their protocols', take it as a header.
    const oip = (priority: string) =>
      stack.api.call('POST', '/v2/models/echo/infer', {
        token: anonymous,
        json: echoInput,
        headers: { 'podium-priority': priority },
      });
    expect((await oip('soon')).body).toMatchObject({ code: 'INVALID_PRIORITY' });
    expect((await oip('high')).body).toMatchObject({ code: 'PRIORITY_ABOVE_CEILING' });
    expect(await requestRows()).toBe(before);
    const low = await oip('low');
    expect(low.status).toBe(200);
    const seen = await stack.api.call('GET', `/api/requests/${low.headers.get('podium-request-id')}`, {
      token: anonymous,
    });
    expect(seen.body.priority).toBe('low');
  });

  it('lets an admin raise a user’s ceiling, audited; the request shows its priority', async () => {
    expect((await grant('urgent')).status).toBe(400);
    const granted = await grant('high');
    expect(granted.status).toBe(200);
    expect(granted.body).toEqual({ priorityCeiling: 'high' });
    const audit = await stack.db.one(sql.type(
      z.object({ action: z.string(), detail: z.record(z.string(), z.unknown()) }),
    )`
      SELECT action, detail FROM audit_log WHERE target_id = ${user.id} AND action = 'USER_PRIORITY_CEILING'`);
    expect(audit.detail).toEqual({ reason: 'runs the nightly reports', before: 'normal', after: 'high' });
    const { body } = await stack.api.submit(user.token, { model: 'echo', input: echoInput, priority: 'high' });
    const { request } = await stack.api.waitUntilFinal(user.token, body.id);
    expect(request).toMatchObject({ status: 'COMPLETE', priority: 'high' });
    // The admin pages and the stats say it too.
    const listed = await stack.api.call('GET', `/api/admin/requests?user=${user.id}`, { token: admin });
    expect(listed.body.requests.find((r: { id: string }) => r.id === body.id)).toMatchObject({ priority: 'high' });
    const stats = await stack.api.call('GET', '/api/admin/stats?model=echo&limit=100', { token: admin });
    expect(stats.body.rows.find((r: { requestId: string }) => r.requestId === body.id)).toMatchObject({
      priority: 'high',
    });
  });

  it('serves waiting requests by priority, then in submission order, exactly', async () => {
    expect((await grant('high')).status).toBe(200);
    const { blocker, waiting } = await blockedModel('prio-echo');
    const submitted: string[] = [];
    for (const priority of ['low', 'normal', 'low', 'high', 'normal', 'high']) {
      submitted.push(await stack.api.submitAccepted(user.token, { model: 'prio-echo', input: echoInput, priority }));
      await eventually(waiting, (n) => n === submitted.length, 30_000);
    }
    // A waiting request says where it is in the line.
    const place = async (id: string) =>
      (await stack.api.call('GET', `/api/requests/${id}`, { token: user.token })).body.queue;
    // No answer of the model measured yet: no estimate of when (deadlines.test.ts has one).
    expect(await place(submitted[3]!)).toEqual({ position: 1, estimatedStartAt: null }); // the first high
    expect(await place(submitted[0]!)).toEqual({ position: 5, estimatedStartAt: null }); // the first low, behind two high and two normal
    for (const id of [blocker, ...submitted]) {
      expect((await stack.api.waitForEnd(user.token, id, 60_000)).status).toBe('COMPLETE');
    }
    expect(await place(submitted[0]!)).toBeUndefined();
    const served = await stack.db.anyFirst(sql.type(z.object({ priority: z.number() }))`
      SELECT priority FROM instance_leases
       WHERE request_id = ANY(${sql.array(submitted, 'uuid')}) ORDER BY leased_at`);
    expect(served).toEqual([0, 0, 1, 1, 2, 2]);
    // Exactly, as many-workers.test.ts checks first come, first served: of two requests waiting
    // at once, the one first in the line's order got its slot first.
    expect(await lineOvertakes(stack.db, 'prio-echo')).toEqual([]);
  }, 120_000);

  it('lets owners take turns in the line, whatever how many each has waiting, exactly', async () => {
    const light = await stack.api.signUp({ username: `light${randomUUID().slice(0, 8)}` });
    // The heavy owner queues six, then the light one two.
    const served = await servedInTurn('fair-echo', [
      { token: user.token, who: 'heavy', count: 6 },
      { token: light.accessToken, who: 'light', count: 2 },
    ]);
    expect(served).toEqual(['heavy', 'light', 'heavy', 'light', 'heavy', 'heavy', 'heavy', 'heavy']);
    expect(await lineOvertakes(stack.db, 'fair-echo')).toEqual([]);
  }, 120_000);

  it('gives an owner of weight 2 two turns for each of a weight-1 owner’s, exactly; the weight audited', async () => {
    const refused = await stack.api.call('PUT', `/api/admin/users/${user.id}/queue-weight`, {
      token: admin,
      json: { weight: 11, reason: 'too much' },
    });
    expect(refused.status).toBe(400);
    const weighted = await stack.api.call('PUT', `/api/admin/users/${user.id}/queue-weight`, {
      token: admin,
      json: { weight: 2, reason: 'pays for twice the share' },
    });
    expect(weighted.status).toBe(200);
    expect(weighted.body).toEqual({ queueWeight: 2 });
    const audit = await stack.db.oneFirst(sql.type(z.object({ detail: z.record(z.string(), z.unknown()) }))`
      SELECT detail FROM audit_log WHERE target_id = ${user.id} AND action = 'USER_QUEUE_WEIGHT'`);
    expect(audit).toEqual({ reason: 'pays for twice the share', before: 1, after: 2 });

    const light = await stack.api.signUp({ username: `one${randomUUID().slice(0, 8)}` });
    const served = await servedInTurn('weighted-echo', [
      { token: user.token, who: 'double', count: 6 },
      { token: light.accessToken, who: 'single', count: 3 },
    ]);
    expect(served).toEqual(['double', 'double', 'single', 'double', 'double', 'single', 'double', 'double', 'single']);
    expect(await lineOvertakes(stack.db, 'weighted-echo')).toEqual([]);
    await stack.api.call('PUT', `/api/admin/users/${user.id}/queue-weight`, {
      token: admin,
      json: { weight: 1, reason: 'back to the default' },
    });
  }, 120_000);
});
