import { proxyLocalActivities, type SignalDefinition } from '@temporalio/workflow';
import type { PodiumActivities } from '../activities';

/** How a long-running workflow signals other workflows. */
export type SignalSender = {
  /** Resolves true once delivered, false when the target workflow is gone or out of reach. */
  send<T>(workflowId: string, signal: SignalDefinition<[T]>, arg: T): Promise<boolean>;
  /** Sends what `send` queued (a no-op for a sender that sends at once). */
  flush(): void;
  /** Nothing queued or on its way: safe to continue as new. */
  readonly idle: boolean;
};

// Local activities: a client call from the worker reaches the other workflow at once, where a
// workflow's own external signal waits for the server's transfer queue (~150 ms a hop on the
// dev server, test/bench/throughput). Whole batches are one activity, so one short timeout.
const signalling = proxyLocalActivities<PodiumActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '50 milliseconds', maximumAttempts: 5 },
});

/**
 * Signals through one local activity at a time, each carrying every signal queued meanwhile.
 *
 * One at a time is what keeps the sender's workflow deterministic. Temporal's Core (since
 * temporalio/sdk-rust#1442, in TypeScript SDK 1.24) hands a local activity's result to the workflow as soon
 * as it finishes, so concurrent ones wake the workflow once each, in whatever grouping their
 * timing gave; on replay it hands over every result already recorded in one activation. Any
 * command issued per activation (a timer from `condition(…, timeout)`) then differs between the
 * live run and its replay: the model pool's histories broke that way (issue 12). With one in
 * flight there is nothing to group. Pinned by test/replay/local-activity-grouping.test.ts.
 */
export function createSignalOutbox(onSettled: () => void): SignalSender {
  const queue: { workflowId: string; signalName: string; arg: unknown; resolve: (delivered: boolean) => void }[] = [];
  let sending = false;

  async function pump(): Promise<void> {
    if (sending || queue.length === 0) return;
    sending = true;
    const batch = queue.splice(0);
    try {
      const delivered = await signalling
        .signalWorkflows({ signals: batch.map(({ workflowId, signalName, arg }) => ({ workflowId, signalName, args: [arg] })) })
        .catch(() => batch.map(() => false));
      batch.forEach((signal, i) => signal.resolve(delivered[i] ?? false));
    } finally {
      sending = false;
      onSettled();
      void pump();
    }
  }

  return {
    send: (workflowId, signal, arg) =>
      new Promise((resolve) => queue.push({ workflowId, signalName: signal.name, arg, resolve })),
    flush: () => void pump(),
    get idle() {
      return !sending && queue.length === 0;
    },
  };
}

/**
 * The model pool's sender before the outbox: one local activity per signal, all at once. Kept
 * only so that pool runs started before it still replay (they take this path when the
 * `pool-signal-outbox` patch is absent from their history); such runs can break on replay as
 * described above. Remove with a `deprecatePatch` once no such run is open.
 */
export function createConcurrentSignals(onSettled: () => void): SignalSender {
  let inFlight = 0;
  return {
    async send(workflowId, signal, arg) {
      inFlight++;
      try {
        return await signalling.signalWorkflow({ workflowId, signalName: signal.name, args: [arg] }).catch(() => false);
      } finally {
        inFlight--;
        onSettled();
      }
    },
    flush: () => undefined,
    get idle() {
      return inFlight === 0;
    },
  };
}
