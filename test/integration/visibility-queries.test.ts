import { closedRequestsQuery } from '../../activities/reconciler';
import { modelNameKey, requestStatusKey } from '../../workflows/search-attributes';
import { requestWorkflowId } from '../../workflows/contracts';
import { eventually } from '../support/eventually';
import { echoInput, useTestStack } from '../support/test-stack';

// Every list and count Podium makes of Temporal's visibility store works on the one this run
// uses: SQLite under the dev server, PostgreSQL's SQL visibility under the multi-service cluster
// (PODIUM_TEST_TEMPORAL=cluster, as .ci/run runs this file a second time).

const stack = useTestStack();

async function listed(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of stack.temporal.workflow.list({ query })) ids.push(execution.workflowId);
  return ids;
}

describe('the visibility queries Podium makes', () => {
  let completed: string;
  let terminated: string;
  beforeAll(async () => {
    const token = await stack.api.anonymousToken();
    const submit = async (delayMs: number) =>
      (await stack.api.submit(token, { model: 'echo', input: { ...echoInput, parameters: { delay_ms: delayMs } } }))
        .body.id as string;
    completed = await submit(0);
    await stack.api.call('GET', `/api/requests/${completed}?wait=60`, { token });
    terminated = await submit(60_000);
    await stack.temporal.workflow.getHandle(requestWorkflowId(terminated)).terminate('visibility test');
  });

  it('finds a closed request workflow by the reconciler’s query (type, task queue, status, close time)', async () => {
    const query = closedRequestsQuery(stack.taskQueue, new Date(Date.now() - 10 * 60_000));
    const ids = await eventually(
      () => listed(query),
      (found) => found.includes(requestWorkflowId(terminated)),
      30_000,
    );
    expect(ids).toContain(requestWorkflowId(terminated));
    expect(ids).not.toContain(requestWorkflowId(completed)); // it completed: nothing to reconcile
  });

  it('filters and counts request workflows by Podium’s search attributes, as the Web UI link does', async () => {
    const query = `${modelNameKey.name} = 'echo' AND ${requestStatusKey.name} = 'COMPLETE' AND TaskQueue = '${stack.taskQueue}'`;
    const ids = await eventually(
      () => listed(query),
      (found) => found.includes(requestWorkflowId(completed)),
      30_000,
    );
    expect(ids).toEqual([requestWorkflowId(completed)]);
    const counted = await eventually(
      () => stack.temporal.workflow.count(`${modelNameKey.name} = 'echo' AND TaskQueue = '${stack.taskQueue}'`),
      ({ count }) => count === 2,
      30_000,
    );
    expect(counted.count).toBe(2);
  });
});
