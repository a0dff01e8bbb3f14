import type { Client } from '@temporalio/client';
import { tsToDate } from '@temporalio/common/lib/time';

/**
 * How many signals reached a workflow id (all its runs) between `from` and `to`, counted from
 * its histories: what a benchmark divides by the requests it completed.
 */
export async function signalsReceived(temporal: Client, workflowId: string, from: Date, to: Date): Promise<number> {
  let count = 0;
  for await (const run of temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const history = await temporal.workflow.getHandle(workflowId, run.runId).fetchHistory();
    for (const event of history.events ?? []) {
      if (!event.workflowExecutionSignaledEventAttributes || !event.eventTime) continue;
      const at = tsToDate(event.eventTime);
      if (at >= from && at <= to) count++;
    }
  }
  return count;
}
