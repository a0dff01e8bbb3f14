import { poolWorkflowId } from '../../domain/pool-plan';
import { eventually } from '../support/eventually';
import { addTestModel } from '../support/models';
import { echoInput, startTestStack, type TestStack } from '../support/test-stack';

// What a request queued at a broken pool sees (issue 12): each startup timeout it spends queued,
// it looks at its pool.

let stack: TestStack;
let token: string;
beforeAll(async () => {
  stack = await startTestStack();
  token = await stack.api.anonymousToken();
});
afterAll(async () => {
  await stack?.stop();
});

const poolOf = (model: string) => stack.temporal.workflow.getHandle(poolWorkflowId(stack.taskQueue, model));
const poolState = (model: string) => poolOf(model).query<{ waiting: { requestId: string }[] }>('poolState');
const submit = async (model: string, delayMs = 0) =>
  (await stack.api.submit(token, { model, input: { ...echoInput, parameters: { delay_ms: delayMs } } })).body.id as string;

describe('a request queued at a pool that breaks', () => {
  it('queues again at a fresh pool when its pool has ended (terminated, or failed on replay), and completes', async () => {
    await addTestModel(stack.pool, { id: 'echo-ended', maxInstances: 1, startupTimeoutSeconds: 2 });
    const busy = await submit('echo-ended', 3_000);
    await eventually(async () => (await stack.api.call('GET', `/api/requests/${busy}`, { token })).body.status, (s) => s === 'PROCESSING');
    const queued = await submit('echo-ended');
    await eventually(() => poolState('echo-ended'), (state) => state.waiting.some((w) => w.requestId === queued));

    await poolOf('echo-ended').terminate('the pool broke');
    const { request } = await stack.api.waitUntilFinal(token, queued, 30_000);
    expect(request).toMatchObject({ status: 'COMPLETE', error: null });
    // The fresh pool found the old pool's instance an orphan and stopped it: the busy request,
    // cut off, was given another instance and completed too.
    expect((await stack.api.waitUntilFinal(token, busy, 30_000)).request).toMatchObject({ status: 'COMPLETE' });
  });

  it('fails MODEL_POOL_FAILING after its startup timeout when the pool keeps failing its workflow task, and admins see the pool failing', async () => {
    await addTestModel(stack.pool, { id: 'echo-broken', startupTimeoutSeconds: 2 });
    expect((await stack.api.waitUntilFinal(token, await submit('echo-broken'))).request.status).toBe('COMPLETE');
    // A signal no pool code expects (as an operator's typo might send): every workflow task
    // of the pool throws from now on, and Temporal retries it forever.
    await poolOf('echo-broken').signal('acquireInstance', null);
    await eventually(async () => (await poolOf('echo-broken').describe()).raw.pendingWorkflowTask?.attempt ?? 0, (attempt) => attempt >= 3, 30_000);

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
