import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  type LocalActivityOptions,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PodiumActivities } from '../activities';
import type { SlotHolder } from '../domain/model-pool';
import {
  afterFailedCall,
  decideEnd,
  leavesInstanceClean,
  type Interruption,
  type Replacements,
} from '../domain/request-failure-policy';
import { describeFailure, isInterruptedCall } from './failures';
import { databasePatienceSeconds, localInferenceLimitSeconds } from '../domain/request-limits';
import { requestStatusKey } from './search-attributes';
import type { RequestEnd, RequestError } from '../domain/work-request';
import type { RequestStart } from '../db/work-requests';
import type { Slot } from '../domain/model-pool';
import {
  adminSetStatusSignal,
  cancelRequestSignal,
  instanceAssignedSignal,
  instanceUnavailableSignal,
  workRequestStageQuery,
  type WorkRequestInput,
  type WorkRequestStage,
} from './contracts';
import {
  acceptOperatorPayload,
  operatorAudits,
  operatorCancelSignal,
  operatorFailSignal,
  operatorRequeueSignal,
  type OperatorNote,
} from './operator-signals';

// Every step of a warm request runs as a local activity, inside the one workflow task that
// starts the request: a regular activity costs two more workflow tasks (~35 ms apiece on the dev
// server, test/bench/throughput). The first try of startRequest may come before the API has
// committed the row (it starts the workflow inside its transaction): retry almost at once. They
// are retried for as long as the database does not answer (activities/bookkeeping.ts makes every
// other error non-retryable), so an outage delays requests and fails none.
const steps = proxyLocalActivities<PodiumActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '10 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
});
const webhooks = proxyActivities<PodiumActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * Runs with it end failed when their request ends FAILED, so the Web UI's list and Temporal's
 * metrics show the failure with the request's error code (before it, they ended "Completed").
 */
export const requestFailsVisiblyPatch = 'request-fails-visibly';

/**
 * One work request, the first version. It takes a free slot of a warm instance, or waits in line
 * for one. It runs the inference there, records the outcome and its stats, and hands the slot to
 * the next in line. Then it calls the webhook, if there is one.
 *
 * The owner may cancel it at any point, and an admin may fail or re-queue it. Cancelling the
 * workflow itself (`temporal workflow cancel`) counts as the owner's cancel.
 */
export async function workRequest(input: WorkRequestInput): Promise<RequestEnd> {
  return runRequest(
    input,
    { failsVisibly: patched(requestFailsVisiblyPatch), earlyHandover: false },
    async ({ requestId, modelId, workflowId }) => {
      const { settings, slot } = await steps.startRequest.executeWithOptions(
        { summary: `take a free slot of a warm ${modelId} instance, or queue` },
        [{ requestId, modelId, workflowId }],
      );
      return { settings, offered: slot };
    },
  );
}

/** How a request workflow's version behaves where versions differ. */
export type RequestBehaviour = {
  /** A FAILED end fails the run. */
  failsVisibly: boolean;
  /**
   * A slot handed over while the first step's answer is on its way is taken. (The first version
   * ignored it until its wait's next look at the startup timeout: the hand-over signal and that
   * answer come in one activation when a workflow task is retried under load, signals first.)
   */
  earlyHandover: boolean;
};

/**
 * The request workflows' frame: the work runs shielded from the workflow's cancellation, which
 * arrives as the owner's cancel instead.
 */
export async function runRequest(
  input: WorkRequestInput,
  { failsVisibly, earlyHandover }: RequestBehaviour,
  begin: Begin,
): Promise<RequestEnd> {
  const root = CancellationScope.current();
  let cancellation: unknown = null;
  const outcome = await CancellationScope.nonCancellable(() =>
    serveRequest(
      input,
      (cancel) => {
        root.cancelRequested.catch((error: unknown) => {
          cancellation = error;
          cancel();
        });
      },
      begin,
      earlyHandover,
    ),
  );
  if (cancellation && outcome.status === 'CANCELLED') throw cancellation;
  // The error is a code and a fixed message (never what the model said: see activities/inference).
  if (failsVisibly && outcome.status === 'FAILED' && outcome.error) {
    throw ApplicationFailure.create({ type: outcome.error.code, message: outcome.error.message, nonRetryable: true });
  }
  return outcome;
}

/**
 * How a request begins: with its settings and either the slot it was offered (null: it waits in
 * line), a call on its slot that failed, or its end already (the warm path did it all).
 */
export type Beginning = { settings: RequestStart } & (
  { offered: Slot | null } | { failed: { slot: Slot; failure: RequestError } } | { ended: RequestEnd }
);
/** The first step of a request workflow; `inferenceScope` is where a cancel reaches a call to the model. */
export type Begin = (request: {
  requestId: string;
  modelId: string;
  workflowId: string;
  inferenceScope: CancellationScope;
}) => Promise<Beginning>;

async function serveRequest(
  { requestId, modelId }: WorkRequestInput,
  onWorkflowCancel: (cancel: () => void) => void,
  begin: Begin,
  earlyHandover: boolean,
): Promise<RequestEnd> {
  const state: RequestState = {
    requestId,
    modelId,
    stage: 'STARTING',
    held: null,
    handed: null,
    unavailable: null,
    interruption: null,
    inferenceScope: new CancellationScope(),
  };
  handleRequestSignals(state, requestId, earlyHandover, onWorkflowCancel);

  let outcome: RequestEnd | null = null;
  let healthy = true;
  let counts: Replacements = { replacements: 0, goneInstances: 0 };
  const workflowId = workflowInfo().workflowId;
  const beginning = await beginUnlessInterrupted(state, begin, workflowId);
  if (!beginning) {
    // Its settings were on their way too: read again, for the webhook (null: never committed).
    const settings = await steps.readRequestSettings.executeWithOptions(
      { summary: 'read the request, cancelled as it began' },
      [{ requestId }],
    );
    return finishRequest(state, null, settings, { healthy });
  }
  if ('ended' in beginning)
    return finishRequest(state, beginning.ended, beginning.settings, { healthy, recorded: true });
  const model = beginning.settings;
  const holder: SlotHolder = { requestId, modelId, workflowId, requestedAt: model.requestedAt };
  const inference = inferenceActivities(model.requestTimeoutSeconds);

  let offered: Slot | null = 'offered' in beginning ? beginning.offered : null;

  // After a call on the held slot failed: another slot (or a place in line), or the request fails.
  const replaceOrFail = async (failure: RequestError): Promise<void> => {
    const decided = await replaceOrFailAfter(state, holder, failure, counts);
    ({ healthy, counts } = decided);
    if ('end' in decided) outcome = decided.end;
    else offered = decided.offered;
  };
  if ('failed' in beginning) {
    state.held = beginning.failed.slot;
    await replaceOrFail(beginning.failed.failure);
  }

  while (outcome === null && !state.interruption) {
    if (!offered)
      offered = await waitInLine(state, holder, model.startupTimeoutSeconds, earlyHandover, model.deadlineAt ?? null);
    if (state.interruption) break;
    if (state.unavailable) {
      outcome = { status: 'FAILED', error: state.unavailable };
      break;
    }
    state.held = offered!;
    offered = null;
    healthy = true;
    const called = await callModel(state, inference, model.requestTimeoutSeconds);
    if (called === null) break;
    if ('failure' in called) await replaceOrFail(called.failure);
    else outcome = called;
  }
  return finishRequest(state, outcome, model, { healthy });
}

/** The request's first step; null when an interruption cut it (its end then gives back what it holds). */
async function beginUnlessInterrupted(
  state: RequestState,
  begin: Begin,
  workflowId: string,
): Promise<Beginning | null> {
  try {
    return await begin({
      requestId: state.requestId,
      modelId: state.modelId,
      workflowId,
      inferenceScope: state.inferenceScope,
    });
  } catch (error) {
    // Cut or cancelled on its way (the warm path calls the model).
    if (isInterruptedCall(error)) await condition(() => state.interruption !== null);
    else if (!(state.interruption && isCancellation(error))) throw error;
    return null;
  }
}

/**
 * After a call on the held slot failed, as the failure policy says: give the slot back and take
 * another (`offered`; null: wait in line), or end the request FAILED. Whether the instance may
 * serve again, and the replacement counts so far, come back too.
 */
async function replaceOrFailAfter(
  state: RequestState,
  holder: SlotHolder,
  failure: RequestError,
  counts: Replacements,
): Promise<{ healthy: boolean; counts: Replacements } & ({ offered: Slot | null } | { end: RequestEnd })> {
  const decided = afterFailedCall(failure, counts);
  const { healthy } = decided;
  if (!decided.replace) return { healthy, counts: decided.counts, end: { status: 'FAILED', error: failure } };
  await steps.releaseSlot.executeWithOptions({ summary: `give back the slot (${failure.code})` }, [
    { requestId: state.requestId, modelId: state.modelId, healthy },
  ]);
  state.held = null;
  const offered = await steps.acquireSlot.executeWithOptions({ summary: 'take another slot, or queue' }, [holder]);
  return { healthy, counts: decided.counts, offered };
}

/**
 * Calls the model on the held slot: COMPLETE, or the failure; null when an interruption cut the
 * call (the interruption is then in `state`).
 */
async function callModel(
  state: RequestState,
  inference: ReturnType<typeof inferenceActivities>,
  requestTimeoutSeconds: number,
): Promise<{ status: 'COMPLETE' } | { failure: RequestError } | null> {
  state.stage = 'INFERRING';
  upsertSearchAttributes([{ key: requestStatusKey, value: 'PROCESSING' }]);
  const held = state.held!;
  try {
    await state.inferenceScope.run(() =>
      inference.runInference.executeWithOptions({ summary: `call ${state.modelId} on instance ${held.instanceId}` }, [
        { requestId: state.requestId, ...held },
      ]),
    );
    return { status: 'COMPLETE' };
  } catch (error) {
    if (state.interruption && isCancellation(error)) return null;
    if (isInterruptedCall(error)) {
      await condition(() => state.interruption !== null);
      return null;
    }
    return {
      failure: describeFailure(error, {
        code: 'REQUEST_TIMEOUT',
        message: `the model did not answer within ${requestTimeoutSeconds} s`,
      }),
    };
  }
}

/**
 * Waits in line for a slot, looking again at each startup timeout that passes with no answer (a
 * slot handed over unheard? the pool failing?), and no longer than the request's deadline. The
 * slot handed over; null when the request was interrupted, the pool could not serve it, or its
 * deadline passed (`state` says which).
 */
async function waitInLine(
  state: RequestState,
  holder: SlotHolder,
  startupTimeoutSeconds: number,
  earlyHandover: boolean,
  deadlineAt: number | null,
): Promise<Slot | null> {
  state.stage = 'QUEUED';
  if (!earlyHandover) state.handed = null;
  const answered = () => state.handed !== null || state.unavailable !== null || state.interruption !== null;
  // Without a deadline, the very timers of runs recorded before deadlines existed (issue 35):
  // the deadline comes from the request's settings, so those runs replay down this path.
  const lookAfter = () =>
    deadlineAt === null
      ? `${startupTimeoutSeconds} seconds`
      : Math.max(1, Math.min(startupTimeoutSeconds * 1000, deadlineAt - Date.now()));
  while (!(await condition(answered, lookAfter()))) {
    if (deadlineAt !== null && Date.now() >= deadlineAt) {
      // The line skips it from now on (db/instance-slots.ts); its end gives back its place.
      state.unavailable = { code: 'EXPIRED', message: 'the deadline passed before the request started' };
      break;
    }
    const look = await steps.checkSlot.executeWithOptions(
      { summary: 'no answer yet: look for a slot handed over unheard, and at the pool' },
      [holder],
    );
    if (look.slot) state.handed = look.slot;
    else if (look.pool.state === 'FAILING')
      state.unavailable = { code: 'MODEL_POOL_FAILING', message: look.pool.message! };
  }
  const handed = state.handed;
  state.handed = null;
  return handed;
}

/**
 * Records the end and gives back the slot, unless `recorded` (the warm path did both), then
 * says so to the Web UI's list and the webhook. `healthy`: whether the instance may serve again.
 */
async function finishRequest(
  state: RequestState,
  result: RequestEnd | null,
  settings: RequestStart | null,
  { healthy, recorded = false }: { healthy: boolean; recorded?: boolean },
): Promise<RequestEnd> {
  const { requestId, modelId } = state;
  state.stage = 'FINISHING';
  const end = recorded ? result! : decideEnd(state.interruption, result);
  if (!recorded) {
    await CancellationScope.nonCancellable(() =>
      steps.finishRequest.executeWithOptions({ summary: `record the end (${end.status}) and give back the slot` }, [
        {
          requestId,
          modelId,
          instanceId: state.held?.instanceId,
          end,
          healthy: healthy && leavesInstanceClean(state.interruption),
        },
      ]),
    );
  }
  upsertSearchAttributes([{ key: requestStatusKey, value: end.status === 'REQUEUED' ? 'REQUESTED' : end.status }]);
  // An operator's audit row is written before the run ends (at once when there was none).
  await condition(allHandlersFinished);
  if (end.status === 'REQUEUED') return continueAsNew<typeof workRequest>({ requestId, modelId });
  if (settings?.hasWebhook) {
    // Every try is recorded in webhook_deliveries; a receiver that never answers does not
    // change how the request ended.
    await webhooks.deliverWebhook
      .executeWithOptions({ summary: `call the webhook with the end (${end.status})` }, [{ requestId }])
      .catch(() => undefined);
  }
  state.stage = 'DONE';
  return end;
}

function inferenceActivities(requestTimeoutSeconds: number) {
  // The activity decides which failures are worth another try (a model's 5xx, twice more; a
  // database out of reach, until it answers) and marks the others non-retryable.
  const options: LocalActivityOptions = {
    startToCloseTimeout: `${requestTimeoutSeconds + databasePatienceSeconds} seconds`,
    retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
  };
  return requestTimeoutSeconds <= localInferenceLimitSeconds
    ? proxyLocalActivities<PodiumActivities>(options)
    : proxyActivities<PodiumActivities>({ ...options, heartbeatTimeout: '5 seconds' });
}

/** What the request's handlers and its main flow share: where it is, and what has happened to it. */
type RequestState = {
  readonly requestId: string;
  readonly modelId: string;
  stage: WorkRequestStage;
  /** The slot the request holds, while it calls the model or gives the slot back. */
  held: Slot | null;
  /** A slot handed over while the request waited in line. */
  handed: Slot | null;
  /** The request cannot be served: the pool failed its starts, or its deadline passed in line. */
  unavailable: RequestError | null;
  interruption: Interruption | null;
  /** Where a cancel reaches a call to the model. */
  readonly inferenceScope: CancellationScope;
};

/**
 * The request's query and signals: its stage; a slot handed over; the pool giving up; the owner's
 * cancel (or the workflow's); an admin's fail or re-queue; and the same three from an operator,
 * checked and audited as the API audits them.
 */
function handleRequestSignals(
  state: RequestState,
  requestId: string,
  earlyHandover: boolean,
  onWorkflowCancel: (cancel: () => void) => void,
): void {
  setHandler(workRequestStageQuery, () => ({ stage: state.stage, instanceId: state.held?.instanceId ?? null }));
  // A slot that comes when the request no longer waits is ignored: Postgres knows it holds it,
  // and finishing gives back whatever it holds.
  setHandler(instanceAssignedSignal, (slot) => {
    if (state.stage === 'QUEUED' || (earlyHandover && state.stage === 'STARTING')) state.handed ??= slot;
  });
  setHandler(instanceUnavailableSignal, (error) => {
    state.unavailable = error;
  });
  const cancel = () => {
    state.interruption ??= { kind: 'CANCEL' };
    state.inferenceScope.cancel();
  };
  setHandler(cancelRequestSignal, cancel);
  onWorkflowCancel(cancel);
  setHandler(adminSetStatusSignal, ({ status, reason }) => {
    state.interruption = status === 'FAILED' ? { kind: 'ADMIN_FAIL', reason } : { kind: 'REQUEUE', reason };
    state.inferenceScope.cancel();
  });
  // The same three from an operator's `temporal workflow signal` (docs/operations.md): checked
  // here, acted on while the request is still on its way, and audited as the API audits them.
  const operatorAction =
    (signal: string, to: 'CANCELLED' | 'FAILED' | 'REQUESTED', act: (note: OperatorNote) => void) =>
    async (payload: unknown) => {
      const note = acceptOperatorPayload(signal, payload);
      if (!note) return;
      if (state.stage === 'FINISHING' || state.stage === 'DONE')
        return log.warn('operator signal too late: the request is ending', { signal });
      const from = state.stage === 'INFERRING' ? 'PROCESSING' : 'REQUESTED';
      act(note);
      const { actor, reason } = note;
      await operatorAudits.recordOperatorAction.executeWithOptions({ summary: `audit ${signal} by ${actor}` }, [
        {
          actor,
          reason,
          action: 'REQUEST_STATUS_SET',
          targetType: 'work_request',
          targetId: requestId,
          detail: { from, to },
        },
      ]);
    };
  setHandler(operatorCancelSignal, operatorAction('operatorCancel', 'CANCELLED', cancel));
  setHandler(
    operatorFailSignal,
    operatorAction('operatorFail', 'FAILED', ({ reason }) => {
      state.interruption = { kind: 'ADMIN_FAIL', reason };
      state.inferenceScope.cancel();
    }),
  );
  setHandler(
    operatorRequeueSignal,
    operatorAction('operatorRequeue', 'REQUESTED', ({ reason }) => {
      state.interruption = { kind: 'REQUEUE', reason };
      state.inferenceScope.cancel();
    }),
  );
}
