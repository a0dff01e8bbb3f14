import type { Client, WorkflowExecutionInfo } from '@temporalio/client';

/** The history length of every run a visibility query lists, from DescribeWorkflowExecution. */
async function describeAll(client: Client, query: string) {
  const runs: WorkflowExecutionInfo[] = [];
  for await (const run of client.workflow.list({ query })) runs.push(run);
  const described: { workflowId: string; runId: string; type: string; events: number; stateTransitions: number }[] = [];
  for (let i = 0; i < runs.length; i += 16) {
    described.push(
      ...(await Promise.all(
        runs.slice(i, i + 16).map(async (run) => {
          const description = await client.workflow.getHandle(run.workflowId, run.runId).describe();
          return {
            workflowId: run.workflowId,
            runId: run.runId,
            type: run.type,
            events: description.historyLength,
            stateTransitions: Number(description.raw.workflowExecutionInfo?.stateTransitionCount ?? 0),
          };
        }),
      )),
    );
  }
  return described;
}

/** Every running workflow's history length now, by run id: the start of a window. */
export async function historyLengths(client: Client): Promise<Map<string, number>> {
  return new Map((await describeAll(client, `ExecutionStatus = 'Running'`)).map((run) => [run.runId, run.events]));
}

/**
 * The history events written since `before` was taken at `since`, in every workflow that ran
 * (those still running, and those closed since), and the request workflows' own events and
 * state transitions.
 */
export async function historyEventsSince(
  client: Client,
  before: Map<string, number>,
  since: Date,
  requestWorkflowTypes: readonly string[],
) {
  const runs = await describeAll(client, `ExecutionStatus = 'Running' OR CloseTime >= '${since.toISOString()}'`);
  const requests = runs.filter((run) => requestWorkflowTypes.includes(run.type));
  return {
    all: runs.reduce((n, run) => n + run.events - (before.get(run.runId) ?? 0), 0),
    requestWorkflows: requests.length,
    requestEvents: requests.reduce((n, run) => n + run.events, 0),
    requestStateTransitions: requests.reduce((n, run) => n + run.stateTransitions, 0),
  };
}
