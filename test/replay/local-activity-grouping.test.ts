import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { installQuietRuntime } from '../support/quiet-runtime';
import { readTestEnv } from '../support/services';
import type { GroupingActivities } from './local-activity-grouping.workflows';

// Pins the Temporal SDK behaviour behind issue 12 (pool-echo nondeterminism): see
// docs/workflow-changes.md, "Local activities: at most one in flight". When an SDK upgrade makes the
// first case replay, the upstream bug is fixed (temporalio/sdk-python#1881 is the open report
// of the same Core change, temporalio/sdk-rust#1442).
installQuietRuntime();
const workflowsPath = require.resolve('./local-activity-grouping.workflows');
const activities: GroupingActivities = { pause: (ms) => new Promise((resolve) => setTimeout(() => resolve(ms), ms)) };

let client: Client;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `la-grouping-${randomUUID()}`;

beforeAll(async () => {
  const address = readTestEnv('temporalAddress');
  client = new Client({ connection: await Connection.connect({ address }) });
  worker = await Worker.create({
    connection: await NativeConnection.connect({ address }),
    taskQueue,
    workflowsPath,
    activities,
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await client?.connection.close();
});

async function runAndReplay(workflowType: string): Promise<void> {
  const handle = await client.workflow.start(workflowType, {
    taskQueue,
    workflowId: `${workflowType}-${randomUUID()}`,
  });
  await handle.result();
  await Worker.runReplayHistory({ workflowsPath }, await handle.fetchHistory(), handle.workflowId);
}

describe('local activity results on replay', () => {
  it('come grouped differently from the live run, so a timer per activation breaks replay', async () => {
    const replay = runAndReplay('concurrentLocalActivities');
    await expect(replay).rejects.toBeInstanceOf(DeterminismViolationError);
    await expect(replay).rejects.toThrow(/Timer fired event did not have expected timer id/);
  });

  it('replay cleanly when at most one is in flight', async () => {
    await expect(runAndReplay('oneLocalActivityAtATime')).resolves.toBeUndefined();
  });
});
