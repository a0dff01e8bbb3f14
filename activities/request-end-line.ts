import type { RequestEnded } from '../db/work-request-lifecycle';

const ms = (seconds: number | null | undefined) =>
  seconds === null || seconds === undefined ? null : Math.round(seconds * 1000);

/**
 * The fields of the one log line a request's end writes: ids, model, how it ended and its
 * stats row's timings (ms); never its input, result or the model's words.
 */
export function requestEndLine(requestId: string, ended: RequestEnded, errorCode: string | null) {
  return {
    requestId,
    model: ended.modelId,
    status: ended.status,
    ...(errorCode ? { errorCode } : {}),
    queueWaitMs: ms(ended.timings?.queueWaitSeconds),
    processingMs: ms(ended.timings?.processingSeconds),
    totalMs: ms(ended.timings?.totalSeconds),
  };
}
