/**
 * How a model's pool workflow is doing, as Temporal describes it. A workflow task that fails
 * (a bug, or code that no longer replays its history) is retried by Temporal forever, and
 * meanwhile the pool hands out nothing: requests must not wait on it in silence.
 */
export type PoolHealth = {
  modelId: string;
  workflowId: string;
  state: 'RUNNING' | 'FAILING' | 'NOT_RUNNING';
  /** The attempt of the workflow task Temporal has pending now (0 when none is pending). */
  workflowTaskAttempt: number;
  message: string | null;
};

/**
 * From this attempt on, the pool counts as failing. The second attempt alone is common and
 * harmless: a worker restart times out the task a sticky worker held.
 */
export const failingFromAttempt = 3;

/** Pure: the health from the workflow's status and its pending workflow task's attempt. */
export function judgePoolHealth(pool: {
  modelId: string;
  workflowId: string;
  status: string | null;
  workflowTaskAttempt: number;
}): PoolHealth {
  const { modelId, workflowId, workflowTaskAttempt } = pool;
  if (pool.status !== 'RUNNING')
    return { modelId, workflowId, state: 'NOT_RUNNING', workflowTaskAttempt: 0, message: null };
  if (workflowTaskAttempt < failingFromAttempt)
    return { modelId, workflowId, state: 'RUNNING', workflowTaskAttempt, message: null };
  return {
    modelId,
    workflowId,
    state: 'FAILING',
    workflowTaskAttempt,
    message:
      `the pool of ${modelId} (workflow ${workflowId}) is failing: its workflow task is on attempt ${workflowTaskAttempt}; ` +
      'the worker log and the workflow in the Temporal Web UI say why',
  };
}
