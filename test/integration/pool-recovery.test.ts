import { describeSlots } from '../../db/instance-slots';
import { breakPool } from '../support/broken-pool';
import { eventually } from '../support/eventually';
import { addTestModel } from '../support/models';
import { echoInput, useTestStack } from '../support/test-stack';
import { poolWorkflowId } from '../../workflows/contracts';

// What a request queued at a broken pool sees (issue 12): each startup timeout it spends queued,
// it looks at its pool.

let token: string;
const stack = useTestStack();
beforeAll(async () => {
  token = await stack.api.anonymousToken();
});

const poolOf = (model: string) => stack.temporal.workflow.getHandle(poolWorkflowId(stack.taskQueue, model));
const waiting = async (model: string) => (await describeSlots(stack.db, model)).waiting;
const submit = async (model: string, delayMs = 0) =>
  (await stack.api.submit(token, { model, input: { ...echoInput, parameters: { delay_ms: delayMs } } })).body
    .id as string;

describe('a request queued at a pool that breaks', () => {
  it('queues again at a fresh pool when its pool has ended (terminated, or failed on replay), and completes', async () => {
    await addTestModel(stack.db, { id: 'echo-ended', maxInstances: 1, startupTimeoutSeconds: 2 });
    const busy = await submit('echo-ended', 3_000);
    await eventually(
      async () => (await stack.api.call('GET', `/api/requests/${busy}`, { token })).body.status,
      (s) => s === 'PROCESSING',
    );
    const queued = await submit('echo-ended');
    await eventually(
      () => waiting('echo-ended'),
      (ids) => ids.includes(queued),
    );

    await poolOf('echo-ended').terminate('the pool broke');
    const { request } = await stack.api.waitUntilFinal(token, queued, 30_000);
    expect(request).toMatchObject({ status: 'COMPLETE', error: null });
    // The fresh pool found the old pool's instance an orphan and stopped it: the busy request,
    // cut off, was given another instance and completed too.
    expect((await stack.api.waitUntilFinal(token, busy, 30_000)).request).toMatchObject({ status: 'COMPLETE' });
  });

  it('fails MODEL_POOL_FAILING after its startup timeout when it needs an instance of a pool that keeps failing; warm slots still serve', async () => {
    await addTestModel(stack.db, { id: 'echo-broken', maxInstances: 2, startupTimeoutSeconds: 2 });
    expect((await stack.api.waitUntilFinal(token, await submit('echo-broken'))).request.status).toBe('COMPLETE');
    await breakPool(poolOf('echo-broken'));

    // The warm instance needs no pool: a request takes its slot and completes.
    expect((await stack.api.waitUntilFinal(token, await submit('echo-broken'))).request.status).toBe('COMPLETE');
    // With that slot busy, the next request needs a second instance, which only the pool starts.
    const busy = await submit('echo-broken', 8_000);
    await eventually(
      async () => (await stack.api.call('GET', `/api/requests/${busy}`, { token })).body.status,
      (s) => s === 'PROCESSING',
    );
    const stuck = await submit('echo-broken');
    const { request } = await stack.api.waitUntilFinal(token, stuck, 30_000);
    expect(request.status).toBe('FAILED');
    expect(request.error).toMatchObject({ code: 'MODEL_POOL_FAILING' });
    expect(request.error!.message).toContain(poolWorkflowId(stack.taskQueue, 'echo-broken'));

    const admin = (await stack.signUpAdmin()).token;
    const { body } = await stack.api.call('GET', '/api/admin/instances?model=echo-broken', { token: admin });
    expect(body.pools).toEqual([expect.objectContaining({ modelId: 'echo-broken', state: 'FAILING' })]);
    await poolOf('echo-broken').terminate('test over');
  });
});
