import * as workflows from '../../workflows';
import { workflowNames, type PodiumWorkflows } from '../../workflows/contracts';
import { poolBookkeepingRetry } from '../../workflows/model-pool';

// The contract's signatures are what the workflows declare: a change to either side fails
// type checking here (npm test runs tsc first).
const registered: PodiumWorkflows = workflows;

describe('the workflow contract', () => {
  it('names exactly the workflows the worker registers', () => {
    expect(Object.keys(registered).sort()).toEqual(Object.values(workflowNames).sort());
    for (const name of Object.values(workflowNames)) expect(typeof workflows[name]).toBe('function');
  });
});

describe("a pool's bookkeeping", () => {
  it('retries until PostgreSQL is back, as the request path does: a stop given up on would leave its instance running', () => {
    expect(poolBookkeepingRetry).not.toHaveProperty('maximumAttempts');
  });
});
