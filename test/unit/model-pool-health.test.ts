import { failingFromAttempt, judgePoolHealth } from '../../domain/model-pool-health';

const pool = { modelId: 'echo', workflowId: 'pool-echo.podium' };

describe('judgePoolHealth', () => {
  it.each([
    ['no pool workflow', null, 0, 'NOT_RUNNING'],
    ['a pool that ended', 'FAILED', 0, 'NOT_RUNNING'],
    ['a pool at rest', 'RUNNING', 0, 'RUNNING'],
    ['a first attempt', 'RUNNING', 1, 'RUNNING'],
    ['a second attempt (a restarted worker timed out a sticky task)', 'RUNNING', 2, 'RUNNING'],
    ['a third attempt', 'RUNNING', failingFromAttempt, 'FAILING'],
    ['many attempts', 'RUNNING', 40, 'FAILING'],
  ])('%s: %s, attempt %d → %s', (_case, status, workflowTaskAttempt, state) => {
    expect(judgePoolHealth({ ...pool, status, workflowTaskAttempt }).state).toBe(state);
  });

  it('a failing pool says which workflow, on which attempt, and where to look', () => {
    const { message } = judgePoolHealth({ ...pool, status: 'RUNNING', workflowTaskAttempt: 7 });
    expect(message).toBe(
      'the pool of echo (workflow pool-echo.podium) is failing: its workflow task is on attempt 7; ' +
        'the worker log and the workflow in the Temporal Web UI say why',
    );
  });
});
