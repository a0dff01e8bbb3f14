import { describeSlots, type SlotsView } from '../../db/instance-slots';
import { eventually } from '../support/eventually';
import { addTestModel } from '../support/models';
import { echoInput, useTestStack } from '../support/test-stack';
import { requestWorkflowId } from '../../workflows/contracts';

// Temporal's own controls on a request's workflow (the CLI's `workflow cancel` and
// `workflow terminate`, the Web UI's buttons) keep the database true: the request ends, and its
// slot or place in the queue is freed.

let token: string;
const stack = useTestStack();
beforeAll(async () => {
  token = await stack.api.anonymousToken();
});

const slotsOf = (model: string) => describeSlots(stack.db, model);
const waits = (slots: SlotsView, requestId: string) => slots.waiting.includes(requestId);
const holds = (slots: SlotsView, requestId: string) =>
  waits(slots, requestId) || slots.leases.some((l) => l.requestId === requestId);
const workflowOf = (requestId: string) => stack.temporal.workflow.getHandle(requestWorkflowId(requestId));
const statusOf = async (requestId: string) =>
  (await stack.api.call('GET', `/api/requests/${requestId}`, { token })).body;
const submit = async (model: string, delayMs: number) =>
  (await stack.api.submit(token, { model, input: { ...echoInput, parameters: { delay_ms: delayMs } } })).body
    .id as string;

describe("Temporal's controls on a request workflow", () => {
  beforeAll(async () => {
    await addTestModel(stack.db, { id: 'echo-one', maxInstances: 1 });
  });

  it('cancelling the workflow of a request being served ends it CANCELLED and frees its instance', async () => {
    // Temporal's cancel reaches a workflow busy in a local activity at its task's heartbeat (8 s):
    // the model works longer than that.
    const busy = await submit('echo-one', 20_000);
    await eventually(
      () => statusOf(busy),
      (body) => body.status === 'PROCESSING',
    );
    const queued = await submit('echo-one', 0);
    await eventually(
      () => slotsOf('echo-one'),
      (slots) => waits(slots, queued),
    );

    await workflowOf(queued).cancel();
    await workflowOf(busy).cancel();
    expect((await stack.api.waitUntilFinal(token, queued, 5_000)).request.status).toBe('CANCELLED');
    expect((await stack.api.waitUntilFinal(token, busy, 15_000)).request.status).toBe('CANCELLED');
    // The workflow itself ends Canceled once it has given the instance back.
    expect(
      await eventually(
        async () => (await workflowOf(busy).describe()).status.name,
        (status) => status === 'CANCELLED',
      ),
    ).toBe('CANCELLED');
    const state = await eventually(
      () => slotsOf('echo-one'),
      (s) => !holds(s, busy) && !holds(s, queued),
    );
    expect(holds(state, busy) || holds(state, queued)).toBe(false);
  });

  it('terminating the workflows of a request being served and of a queued one: both end FAILED within 30 s, the instance serves the next', async () => {
    const busy = await submit('echo-one', 60_000);
    await eventually(
      () => statusOf(busy),
      (body) => body.status === 'PROCESSING',
    );
    const queued = await submit('echo-one', 0);
    await eventually(
      () => slotsOf('echo-one'),
      (slots) => waits(slots, queued),
    );

    await workflowOf(busy).terminate('an operator stepped in');
    await workflowOf(queued).terminate('an operator stepped in');
    const ended = await eventually(
      async () => [await statusOf(busy), await statusOf(queued)],
      (bodies) => bodies.every((body) => body.status === 'FAILED'),
      30_000,
    );
    expect(ended.map((body) => body.error?.code)).toEqual(['WORKFLOW_TERMINATED', 'WORKFLOW_TERMINATED']);
    const state = await eventually(
      () => slotsOf('echo-one'),
      (s) => !holds(s, busy) && !holds(s, queued),
    );
    expect(holds(state, busy) || holds(state, queued)).toBe(false);

    // The one instance is free again (the terminated request's call is cut at its next
    // heartbeat, which finds its workflow gone).
    const next = await submit('echo-one', 0);
    expect((await stack.api.waitUntilFinal(token, next, 10_000)).request.status).toBe('COMPLETE');
  });
});
