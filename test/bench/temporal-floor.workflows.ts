// The least a work request can cost on Temporal: one workflow whose one local activity sends
// the input to a warm model server. Podium's request path is measured against it.
import { proxyLocalActivities } from '@temporalio/workflow';

export type FloorActivities = { infer(endpoint: string): Promise<void> };
const { infer } = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '10 seconds' });

export async function floorRequest(endpoint: string): Promise<void> {
  await infer(endpoint);
}
