import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { workflowFailureErrorTypes } from '../../infra/worker';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/quiet-runtime';
import { readTestEnv } from '../support/services';
import { pokeSignal } from './changed-pool/before';
import { workflowNames } from '../../workflows/contracts';

// A pool run whose history the current code cannot replay (issue 12) must end, not retry its
// workflow task forever: with Podium's worker settings it fails, and the next request starts a
// fresh run (test/integration/pool-recovery.test.ts shows the requests' side).
installQuietRuntime();
let client: Client;
beforeAll(async () => {
  client = new Client({ connection: await Connection.connect({ address: readTestEnv('temporalAddress') }) });
});
afterAll(async () => {
  await client?.connection.close();
});

async function runWorker(version: 'before' | 'after', taskQueue: string, until: () => Promise<unknown>) {
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: readTestEnv('temporalAddress') }),
    taskQueue,
    workflowsPath: require.resolve(`./changed-pool/${version}`),
    workflowFailureErrorTypes,
    stickyQueueScheduleToStartTimeout: '1 second',
  });
  await worker.runUntil(until);
}

it('a model pool that no longer replays its history fails instead of hanging', async () => {
  const taskQueue = `changed-pool-${randomUUID()}`;
  const handle = await client.workflow.start(workflowNames.modelPool, {
    taskQueue,
    workflowId: `pool-changed-${randomUUID()}`,
  });
  const firedTimer = async () =>
    (await handle.fetchHistory()).events?.some((event) => event.timerFiredEventAttributes) ?? false;
  await runWorker('before', taskQueue, () => eventually(firedTimer, Boolean, 10_000));

  await runWorker('after', taskQueue, async () => {
    await handle.signal(pokeSignal);
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
  });
  const failure = (await handle.fetchHistory()).events?.find((event) => event.workflowExecutionFailedEventAttributes);
  expect(failure?.workflowExecutionFailedEventAttributes?.failure?.message).toMatch(/Nondeterminism/);
});
