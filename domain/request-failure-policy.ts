import type { RequestEnd, RequestError } from './work-request';

// What a request does when something goes wrong: pure decisions, which the request workflow
// (workflows/work-request.ts) carries out. Table tests: test/unit/request-failure-policy.test.ts.

/** What stopped a request from outside: its owner's cancel, an admin's fail, a re-queue. */
export type Interruption =
  { kind: 'CANCEL' } | { kind: 'ADMIN_FAIL'; reason: string } | { kind: 'REQUEUE'; reason: string };

/**
 * An instance that stopped answering during the call (it may have crashed on this very input),
 * or a slot handed over twice, is replaced this many times.
 */
export const maxInstanceReplacements = 2;
/**
 * One that was gone before the call (refused: it died with its worker or node) cannot be this
 * request's doing and is replaced this many times; the bound only stops a loop. (At 10, one
 * request of 122 ran out during `npm run faults`' storm of 100 worker kills, where every instance
 * lives 2–3 s.)
 */
export const maxGoneInstances = 25;

/** How many instances the request has replaced so far, of each kind. */
export type Replacements = { replacements: number; goneInstances: number };

/**
 * After a call on an instance failed: whether the instance may serve again (`healthy`), and
 * whether the request takes another slot (`replace`) or fails with this failure. The counts
 * after the decision come back too.
 */
export function afterFailedCall(
  failure: RequestError,
  counts: Replacements,
): { healthy: boolean; replace: boolean; counts: Replacements } {
  // A timed-out, unreachable or gone instance is not trusted with another request.
  const healthy = !['REQUEST_TIMEOUT', 'INSTANCE_UNREACHABLE', 'INSTANCE_GONE'].includes(failure.code);
  const lost = failure.code === 'SLOT_NOT_HELD'; // a slot that was handed over twice: ask again
  if (failure.code === 'INSTANCE_GONE') {
    return {
      healthy,
      replace: counts.goneInstances < maxGoneInstances,
      counts: { ...counts, goneInstances: counts.goneInstances + 1 },
    };
  }
  if (lost || failure.code === 'INSTANCE_UNREACHABLE') {
    return {
      healthy,
      replace: counts.replacements < maxInstanceReplacements,
      counts: { ...counts, replacements: counts.replacements + 1 },
    };
  }
  return { healthy, replace: false, counts };
}

/** A cancelled call leaves the instance clean; one an admin had to stop may be stuck. */
export function leavesInstanceClean(interruption: Interruption | null): boolean {
  return interruption === null || interruption.kind === 'CANCEL';
}

/** How the request ends: the interruption wins over what the inference did, except a result already stored. */
export function decideEnd(interruption: Interruption | null, outcome: RequestEnd | null): RequestEnd {
  if (outcome?.status === 'COMPLETE') return outcome;
  if (interruption?.kind === 'CANCEL') return { status: 'CANCELLED' };
  if (interruption?.kind === 'REQUEUE') return { status: 'REQUEUED' };
  if (interruption?.kind === 'ADMIN_FAIL')
    return { status: 'FAILED', error: { code: 'FAILED_BY_ADMIN', message: interruption.reason } };
  return outcome ?? { status: 'FAILED', error: { code: 'MODEL_REQUEST_FAILED', message: 'no outcome' } };
}
