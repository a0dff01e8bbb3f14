import { randomUUID } from 'node:crypto';
import { insertModelInstance } from '../../db/model-instances';
import { instanceRuntimeEvents, recordRuntimeEvents } from '../../db/runtime-views';
import { runtimeEventsKept, type LiveInstance } from '../../domain/instances';
import { useTestStack } from '../support/test-stack';

const stack = useTestStack({ worker: false });

/** A pod's Event as @kubernetes/client-node reads it. */
const kubeletEvent = (n: number, count = 1) => ({
  metadata: { uid: `event-${n}`, resourceVersion: String(1000 + n) },
  type: 'Normal',
  reason: `Reason${n}`,
  message: `message ${n}`,
  source: { component: 'kubelet' },
  count,
  firstTimestamp: new Date(Date.UTC(2026, 10, 28, 0, 0, n)),
  lastTimestamp: new Date(Date.UTC(2026, 10, 28, 0, 0, n)),
});
const pod = (instanceId: string, events: unknown[]): LiveInstance => ({
  runtimeRef: `echo-${instanceId}`,
  instanceId,
  modelId: 'echo',
  phase: 'Running',
  ready: true,
  node: 'n1',
  startedAt: null,
  requestId: null,
  waiting: null,
  events,
});

describe('the runtime events kept with each instance', () => {
  it('keeps each event once, counts it again when it repeats, and keeps the latest few', async () => {
    const id = randomUUID();
    await insertModelInstance(stack.db, { id, modelId: 'echo', runtime: 'kubernetes', annotations: {} });
    await recordRuntimeEvents(stack.db, [pod(id, [kubeletEvent(1), kubeletEvent(2)])]);
    await recordRuntimeEvents(stack.db, [pod(id, [kubeletEvent(1), kubeletEvent(2, 3)])]);
    expect((await instanceRuntimeEvents(stack.db, id)).map((e) => [e.reason, e.count])).toEqual([
      ['Reason1', 1],
      ['Reason2', 3],
    ]);

    const many = Array.from({ length: runtimeEventsKept + 10 }, (_, n) => kubeletEvent(n + 3));
    await recordRuntimeEvents(stack.db, [pod(id, many)]);
    const kept = await instanceRuntimeEvents(stack.db, id);
    expect(kept).toHaveLength(runtimeEventsKept);
    expect(kept.at(-1)!.reason).toBe(`Reason${runtimeEventsKept + 12}`);
    expect(kept[0]!.reason).toBe(`Reason${13}`);
  });

  it('skips pods of instances this installation has no record of', async () => {
    const stranger = randomUUID();
    await recordRuntimeEvents(stack.db, [pod(stranger, [kubeletEvent(1)])]);
    expect(await instanceRuntimeEvents(stack.db, stranger)).toEqual([]);
  });
});
