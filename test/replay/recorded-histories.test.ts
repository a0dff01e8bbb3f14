import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { installQuietRuntime } from '../support/quiet-runtime';
import { readTestEnv } from '../support/services';
import { historyFiles, readHistoryFile } from './replay-support';

// Running workflows are sacred: every history recorded from an earlier version of the workflows
// (test/replay/histories/, written by `npm run replay:record`) must replay against today's code.
// A change that breaks one needs `patched()` or a new workflow type, not a new recording.
installQuietRuntime();
const dir = path.join(__dirname, 'histories');
const files = historyFiles(dir);

describe('recorded workflow histories', () => {
  it('there are histories of every workflow type to replay', () => {
    const types = new Set(
      files.map(
        (file) =>
          readHistoryFile(file).history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name,
      ),
    );
    expect([...types].sort()).toEqual([
      'cleanupOldRequests',
      'describeLiveInstances',
      'modelPool',
      'modelRequest',
      'modelRequest2',
      'nodeAutoscaler',
      'requestReconciler',
    ]);
  });

  // One replay after another, a set more with each workflow change: 38 s in a loaded CI on
  // 2026-12-05 and past the default minute in the next, so it has five.
  it('all replay against the current workflow code', async () => {
    const failures: string[] = [];
    const replays = Worker.runReplayHistories(
      { workflowBundle: { codePath: readTestEnv('workflowBundle') } },
      files.map((file) => ({ ...readHistoryFile(file), workflowId: path.relative(dir, file) })),
    );
    let replayed = 0;
    for await (const result of replays) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  }, 300_000);
});
