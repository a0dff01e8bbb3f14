import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import type { RequestError } from '../domain/work-request';
import { instanceLostType, interruptedCallType } from './contracts';

/** The failure's own code and message, without Temporal's wrapping; a timeout becomes `onTimeout`. */
export function describeFailure(error: unknown, onTimeout: RequestError): RequestError {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof TimeoutFailure) return onTimeout;
  if (cause instanceof ApplicationFailure)
    return { code: cause.type ?? 'MODEL_REQUEST_FAILED', message: cause.message };
  if (cause instanceof Error) return { code: 'MODEL_REQUEST_FAILED', message: cause.message };
  return { code: 'MODEL_REQUEST_FAILED', message: String(cause) };
}

/**
 * Whether an activity failed because its worker went away: no heartbeat came in time (a worker
 * killed or stuck), which says nothing about the model it was starting or calling.
 */
export function lostWithItsWorker(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : null;
  // A heartbeat that stopped: the activity's worker died. INSTANCE_LOST: the worker that started
  // the instance died, and another was waiting for it (the decision reads only the failure, so
  // histories recorded before this type existed replay as they ran).
  return (
    (cause instanceof TimeoutFailure && cause.timeoutType === 'HEARTBEAT') ||
    (cause instanceof ApplicationFailure && cause.type === instanceLostType)
  );
}

/** Whether a model call was cut by its request's interrupt (the signal saying why is on its way). */
export function isInterruptedCall(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && cause.type === interruptedCallType;
}
