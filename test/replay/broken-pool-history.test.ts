import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { installQuietRuntime } from '../support/quiet-runtime';
import { readTestEnv } from '../support/services';
import { readHistoryFile } from './replay-support';

// The history that killed the echo model (issue 12): 3,802 events of a pool run started before
// the signal outbox, recorded where concurrent local activity results had woken the pool one at
// a time. Its run holds no `pool-signal-outbox` patch marker, so today's code replays it on the
// old path, and no code can replay it: which timers a workflow task created and cancelled
// depends on how the live run's results were grouped, and that is not in the history.
// What keeps the model alive is the worker's handling: such a pool fails (see infra/worker.ts
// and test/integration/pool-recovery.test.ts) and the next request starts a fresh one.
installQuietRuntime();

it('the pool history from issue 12 still fails replay, on the timer the live run created and the replay could not', async () => {
  const { history } = readHistoryFile(path.join(__dirname, 'broken', 'pool-echo-nondeterminism.history.json.gz'));
  const replay = Worker.runReplayHistory({ workflowBundle: { codePath: readTestEnv('workflowBundle') } }, history, 'pool-echo.podium');
  await expect(replay).rejects.toBeInstanceOf(DeterminismViolationError);
  await expect(replay).rejects.toThrow('Timer fired event did not have expected timer id 15, it was 17');
});
