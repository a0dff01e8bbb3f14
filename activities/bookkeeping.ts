import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { TemporalFailure } from '@temporalio/common';
import { isDatabaseUnavailable } from '../db/database-failures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Activities = Record<string, (...args: any[]) => Promise<unknown>>;

/**
 * Bookkeeping activities are retried without limit, so an outage of the database delays a
 * request and fails none: their errors stay retryable while the database is out of reach, and
 * any other error (a constraint, a row that does not parse, a bug) becomes non-retryable under
 * its class's name, since another try would only repeat it.
 */
export function retriedWhileDatabaseIsDown<T extends Activities>(activities: T): T {
  const wrapped: Activities = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await activity(...args);
      } catch (error) {
        if (
          error instanceof TemporalFailure ||
          isDatabaseUnavailable(error) ||
          Context.current().cancellationSignal.aborted
        )
          throw error;
        const cause = error instanceof Error ? error : new Error(String(error));
        // It fails its workflow: the worker's log says what it was, where the request only says WORKFLOW_FAILED.
        log.error('an activity failed for good', {
          activity: name,
          type: cause.constructor.name,
          error: cause.message,
        });
        throw ApplicationFailure.create({
          type: cause.constructor.name,
          message: cause.message,
          nonRetryable: true,
          cause,
        });
      }
    };
  }
  return wrapped as T;
}

/**
 * Runs `write` until the database takes it: for what exists only in this activity's memory (a
 * model's answer), which a Temporal retry would have to compute again. Gives up only on a real
 * error, or when the activity is cancelled.
 */
export async function untilStored<T>(write: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let waitMs = 100; ; waitMs = Math.min(waitMs * 2, 5_000)) {
    try {
      return await write();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || signal.aborted) throw error;
    }
    await sleep(waitMs, undefined, { signal });
  }
}
