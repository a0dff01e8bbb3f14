// The durable-record floor's workflow: one local activity that calls the model and stores the
// answer with one UPDATE. See durable-record-floor.ts.
import { proxyLocalActivities } from '@temporalio/workflow';

export type DurableRecordActivities = { inferAndStore(id: string, input: unknown, endpoint: string): Promise<void> };
// A long start-to-close: SDK Core 1.24 leaves a retried local activity's first timer running,
// and when it fires after the activity has ended, Core panics on stderr (sdk-rust#1465).
const { inferAndStore } = proxyLocalActivities<DurableRecordActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '10 milliseconds' },
});

export async function durableRecord(id: string, input: unknown, endpoint: string): Promise<void> {
  await inferAndStore(id, input, endpoint);
}
