import {
  condition,
  continueAsNew,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { PodiumActivities } from '../activities';
import { decide, type AutoscalerMemory } from '../domain/node-autoscaler';
import { podsUnschedulableSignal, type NodeAutoscalerInput } from './contracts';
import {
  acceptOperatorPayload,
  operatorAudits,
  operatorPauseAutoscalerSignal,
  operatorResumeAutoscalerSignal,
  type OperatorNote,
} from './operator-signals';

const cluster = proxyActivities<PodiumActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 10 },
});

// Waits shorter than a second: server timers fire up to ~1 s late (seen on the dev server),
// which would put a whole second into a 200 ms batch window.
const shortWait = proxyLocalActivities<PodiumActivities>({ startToCloseTimeout: '5 seconds' });

/** Rounds per run before continuing as new (each round is a handful of events). */
const roundsPerRun = 200;

/**
 * The node autoscaler: one long-running workflow per task queue, with a fixed id.
 *
 * Each round observes the cluster, decides, acts through an activity and records the decision.
 * The decision is the pure `decide`, run in the workflow: the snapshot it reads is in the
 * history, so a replay decides the same.
 *
 * It wakes on a `podsUnschedulable` signal, sent the moment a pool finds its pod Unschedulable.
 * It also wakes when a decision asks to look again (a batch window or a delay ends), and on the
 * scan interval.
 *
 * It never adds a node twice. A decision names its nodes from this run and the round number, so
 * an `actOnCluster` retried after a killed worker asks for the same nodes again, and the
 * provider treats them as done. The next round counts nodes still starting as capacity.
 */
export async function nodeAutoscaler({
  settings,
  carried,
  scanIntervalMs = 10_000,
}: NodeAutoscalerInput): Promise<void> {
  let memory: AutoscalerMemory = carried?.memory ?? { emptySince: {} };
  let rounds = carried?.rounds ?? 0;
  let woken = false;
  setHandler(podsUnschedulableSignal, () => {
    woken = true;
  });
  // An operator may pause it (no node added or removed) until they resume it; carried across runs.
  let paused: OperatorNote | null = carried?.paused ?? null;
  const pauseOrResume = (signal: string, pause: boolean) => async (payload: unknown) => {
    const note = acceptOperatorPayload(signal, payload);
    if (!note) return;
    const { actor, reason } = note;
    paused = pause ? { actor, reason } : null;
    woken = true;
    const action = pause ? 'AUTOSCALER_PAUSE' : 'AUTOSCALER_RESUME';
    await operatorAudits.recordOperatorAction({
      actor,
      reason,
      action,
      targetType: 'node_autoscaler',
      targetId: workflowInfo().workflowId,
    });
  };
  setHandler(operatorPauseAutoscalerSignal, pauseOrResume('operatorPauseAutoscaler', true));
  setHandler(operatorResumeAutoscalerSignal, pauseOrResume('operatorResumeAutoscaler', false));

  for (let round = 0; round < roundsPerRun; round++) {
    if (paused) await condition(() => paused === null);
    woken = false;
    const snapshot = await cluster.observeCluster();
    const plan = decide(snapshot, settings, memory);
    memory = plan.memory;
    rounds++;
    const decisionId = `${workflowInfo().runId.slice(0, 8)}-${rounds}`;
    let acted: { actedAt: number; results: string[] } | null = null;
    if (plan.actions.length > 0) acted = await cluster.actOnCluster({ decisionId, actions: plan.actions });
    if (plan.actions.length > 0 || snapshot.pending.length > 0) {
      await cluster.recordAutoscalerDecision({
        decisionId,
        decidedAt: new Date(snapshot.now).toISOString(),
        actedAt: acted ? new Date(acted.actedAt).toISOString() : null,
        pendingPods: snapshot.pending.length,
        nodes: snapshot.nodes.length,
        actions: plan.actions,
        reasons: plan.reasons,
        results: acted?.results ?? [],
      });
    }
    // Acted: look again soon (nodes come up, pods get placed). Otherwise at the plan's wake-up
    // time, on a signal, or after the scan interval.
    const nextLook =
      plan.actions.length > 0 ? 1_000 : plan.wakeAt !== null ? Math.max(1, plan.wakeAt - Date.now()) : scanIntervalMs;
    if (nextLook < 1_000) await shortWait.pause({ ms: nextLook });
    else await condition(() => woken, Math.min(nextLook, scanIntervalMs));
  }
  await continueAsNew<typeof nodeAutoscaler>({
    settings,
    scanIntervalMs,
    carried: { memory, rounds, ...(paused ? { paused } : {}) },
  });
}
