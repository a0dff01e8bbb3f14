import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { requestStatus } from '../domain/request-status';
import { requestError, requestInput, requestResult, type RequestResult } from '../domain/work-request';
import { requestStart } from './work-requests';

/**
 * The warm request path's two statements (migrations 022 and 023): a request that finds a free
 * slot and nobody waiting begins with one and finishes with the other. Each is its own
 * transaction, and takes the model's slot lock shared: warm requests of one model run side by side.
 */

const warmBeginning = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('NOT_VISIBLE') }),
  z.object({
    outcome: z.literal('ENDED'),
    status: requestStatus.extract(['COMPLETE', 'FAILED', 'CANCELLED']),
    error: requestError.nullable(),
    settings: requestStart,
  }),
  z.object({ outcome: z.literal('ELSEWHERE'), settings: requestStart }),
  z.object({
    outcome: z.literal('STARTED'),
    settings: requestStart,
    slot: z.object({ instanceId: z.string(), endpoint: z.string() }),
    runtimeRef: z.string().nullable(),
    servedModelName: z.string(),
    input: requestInput,
  }),
]);
export type WarmBeginning = z.infer<typeof warmBeginning>;

const begunRow = z.object({ begun: warmBeginning });

/** The request on a free slot, PROCESSING, in one statement; or why not (see migration 022). */
export async function beginWarmRequest(
  db: CommonQueryMethods,
  request: { requestId: string; workflowId: string; maxRequestTimeoutSeconds: number },
): Promise<WarmBeginning> {
  const { begun } = await db.one(sql.type(begunRow)`
    SELECT begin_warm_request(${request.requestId}, ${request.workflowId}, ${request.maxRequestTimeoutSeconds}) AS begun`);
  return begun;
}

const warmEnding = z.union([
  /** The request had ended already; `status` says how (COMPLETE: this very finish, committed, its answer lost). */
  z.object({ ended: z.literal(false), status: requestStatus.nullable() }),
  z.object({
    ended: z.literal(true),
    modelId: z.string(),
    timings: z
      .object({
        queueWaitSeconds: z.number().nullable(),
        processingSeconds: z.number().nullable(),
        totalSeconds: z.number(),
      })
      .nullable(),
    /** false when somebody waits or the instance is no longer READY: the general path (releaseSlot) hands the slot over or tells the pool. */
    released: z.boolean(),
  }),
]);
export type WarmEnding = z.infer<typeof warmEnding>;

const endedRow = z.object({ ended: warmEnding });

/** The result stored, the request COMPLETE with its event and stats row, its lease released: one transaction. */
export async function finishWarmRequest(
  db: CommonQueryMethods,
  requestId: string,
  result: RequestResult,
): Promise<WarmEnding> {
  const { ended } = await db.one(sql.type(endedRow)`
    SELECT finish_warm_request(${requestId}, ${sql.jsonb(requestResult.parse(result))}) AS ended`);
  return ended;
}
