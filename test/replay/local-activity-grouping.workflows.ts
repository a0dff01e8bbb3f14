// The smallest workflows that show how Temporal's TypeScript SDK 1.24 (its Core) hands local
// activity results to a workflow: live, one activation per result as each finishes; on replay,
// every result already in history in one activation. A workflow that creates a timer per
// activation (a `condition` with a timeout, as the model pool did) therefore creates fewer
// timers on replay, and the next timer that fires has another id: a nondeterminism error.
import { condition, proxyLocalActivities, sleep } from '@temporalio/workflow';

export type GroupingActivities = { pause(ms: number): Promise<number> };
const { pause } = proxyLocalActivities<GroupingActivities>({ startToCloseTimeout: '10 seconds' });

const pauses = [0, 300, 600];

/** Three local activities at once, each result waking a loop that waits with a timeout. */
export async function concurrentLocalActivities(): Promise<void> {
  let done = 0;
  for (const ms of pauses) void pause(ms).then(() => done++);
  for (let seen = 0; seen < pauses.length; seen = done) await condition(() => done > seen, '1 minute');
  await sleep(10); // a timer that fires: the replayer checks its id
}

/** The same work with at most one local activity in flight: the grouping cannot differ. */
export async function oneLocalActivityAtATime(): Promise<void> {
  let done = 0;
  const sendAll = async () => {
    for (const ms of pauses) await pause(ms).then(() => done++);
  };
  void sendAll();
  for (let seen = 0; seen < pauses.length; seen = done) await condition(() => done > seen, '1 minute');
  await sleep(10);
}
