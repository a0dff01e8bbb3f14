// The durable-record floor's workflow: one local activity that calls the model and stores the
// answer with one UPDATE. See durable-record-floor.ts.
import { proxyLocalActivities } from '@temporalio/workflow';

export type DurableRecordActivities = { inferAndStore(id: string, input: unknown, endpoint: string): Promise<void> };
const { inferAndStore } = proxyLocalActivities<DurableRecordActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '10 milliseconds' },
});

export async function durableRecord(id: string, input: unknown, endpoint: string): Promise<void> {
  await inferAndStore(id, input, endpoint);
}
