import { ApplicationFailure, type Context } from '@temporalio/activity';
import { interruptedCallType } from '../workflows/contracts';
import { isGenerateStreamCall } from '../domain/inference-protocol';
import { inferPlan, type PayloadIo } from './infer-call';
import { generateStreamPlan } from './generate-stream-call';
import { isOpenAiCall } from '../domain/openai-api';
import type { RequestInput, RequestResult } from '../domain/work-request';
import type { ChunkRelay } from './chunk-relay';
import { openAiCallPlan } from './openai-call';

async function errorText(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
  } catch {
    // not JSON: use the text itself
  }
  return text.slice(0, 500) || response.statusText;
}

/** A model's 5xx is tried this many times in all; a database that does not answer, until it does. */
export const modelErrorAttempts = 3;

/** Why a call did not give an answer. */
export type ModelFailure = { code: string; message: string; detail: string; retryable: boolean };

/**
 * One call to the model, within its request timeout: its answer, or why not. `message` is fit
 * for workflow history (no model output); `detail` is what the model or the network said.
 */
export async function callModel(
  work: {
    requestId: string;
    instanceId: string;
    endpoint: string;
    modelId: string;
    servedModelName: string;
    input: RequestInput;
    requestTimeoutSeconds: number;
    /** Epoch ms by when the answer is of use (null: none): the call is cut then. */
    deadlineAt?: number | null;
  },
  context: Context,
  /** Aborts when the request is interrupted (activities/request-interrupts.ts): the call ends REQUEST_INTERRUPTED. */
  interrupted: AbortSignal,
  /** Where a streamed answer's chunks go as they come (activities/chunk-relay.ts). */
  openRelay: () => ChunkRelay,
  /** Where tensors kept as payloads are read from and a binary answer's are written. */
  payloadIo: PayloadIo,
): Promise<{ result: RequestResult } | { failure: ModelFailure }> {
  const { requestId, instanceId, endpoint, modelId, servedModelName, input, requestTimeoutSeconds } = work;
  const timeout = AbortSignal.timeout(requestTimeoutSeconds * 1000);
  if (interrupted.aborted) throw interruptedCall();
  const deadlineAt = work.deadlineAt ?? null;
  const untilDeadline = deadlineAt === null ? null : deadlineAt - Date.now();
  // Past its deadline before the model heard of it: it never started (unless an earlier try did).
  if (untilDeadline !== null && untilDeadline <= 0) return { failure: deadlinePassed(context.info.attempt > 1) };
  const deadline = untilDeadline === null ? null : AbortSignal.timeout(untilDeadline);
  const cut = () =>
    timeout.aborted
      ? { failure: timedOut(requestTimeoutSeconds) }
      : deadline?.aborted
        ? { failure: deadlinePassed(true) }
        : null;
  const { path, body, binary, read } = isOpenAiCall(input)
    ? openAiCallPlan(input, modelId, servedModelName, openRelay)
    : isGenerateStreamCall(input)
      ? generateStreamPlan(input, requestId, modelId, servedModelName, openRelay)
      : await inferPlan(input, work, payloadIo);
  let response: Response;
  try {
    response = await fetch(`${endpoint}${path}`, {
      method: 'POST',
      headers: binary?.headers ?? { 'content-type': 'application/json' },
      body: binary ? (binary.bytes as AsyncIterable<Uint8Array> & BodyInit) : JSON.stringify(body),
      ...(binary ? { duplex: 'half' } : {}),
      signal: AbortSignal.any([context.cancellationSignal, timeout, interrupted, ...(deadline ? [deadline] : [])]),
    });
  } catch (error) {
    if (context.cancellationSignal.aborted) throw error;
    if (interrupted.aborted) throw interruptedCall();
    const timedOutOrLate = cut();
    if (timedOutOrLate) return timedOutOrLate;
    const detail = `instance ${instanceId} did not answer: ${(error as Error).message}`;
    // Refused: nothing listened before the input was sent (the instance died with its worker or
    // node), so this request cannot be what broke it. Any other failure may be its doing.
    if ((error as { cause?: { code?: unknown } }).cause?.code === 'ECONNREFUSED') {
      return {
        failure: { code: 'INSTANCE_GONE', message: `instance ${instanceId} was gone`, detail, retryable: false },
      };
    }
    return {
      failure: {
        code: 'INSTANCE_UNREACHABLE',
        message: `instance ${instanceId} did not answer`,
        detail,
        retryable: false,
      },
    };
  }
  try {
    // OIP answers 404 for a model it does not serve: the catalog's name for it is wrong, not the input.
    if (response.status === 404) {
      const detail = `model ${modelId} is not served by its instance under the name "${servedModelName}": ${await errorText(response)}`;
      return {
        failure: {
          code: 'MODEL_NOT_SERVED',
          message: `model ${modelId} is not served by its instance`,
          detail,
          retryable: false,
        },
      };
    }
    if (response.status >= 400 && response.status < 500) {
      const detail = `model ${modelId} rejected the input: ${await errorText(response)}`;
      return {
        failure: {
          code: 'MODEL_REJECTED_INPUT',
          message: `model ${modelId} rejected the input`,
          detail,
          retryable: false,
        },
      };
    }
    if (!response.ok) {
      const detail = `model ${modelId} answered ${response.status}: ${await errorText(response)}`;
      return {
        failure: {
          code: 'MODEL_ERROR',
          message: `model ${modelId} answered ${response.status}`,
          detail,
          retryable: true,
        },
      };
    }
    return { result: await read(response) };
  } catch (error) {
    if (context.cancellationSignal.aborted) throw error;
    if (interrupted.aborted) throw interruptedCall();
    const timedOutOrLate = cut(); // the body came too slowly
    if (timedOutOrLate) return timedOutOrLate;
    // fetch's body failed: the instance went away in the middle of its answer (a stream, say).
    // By name: fetch's TypeError may come from another realm (a test's sandbox).
    if ((error as Error | null)?.name === 'TypeError') {
      return {
        failure: {
          code: 'INSTANCE_UNREACHABLE',
          message: `instance ${instanceId} stopped in the middle of its answer`,
          detail: `instance ${instanceId} stopped in the middle of its answer: ${(error as Error).message}`,
          retryable: false,
        },
      };
    }
    throw error;
  }
}

const timedOut = (seconds: number): ModelFailure => {
  const message = `the model did not answer within ${seconds} s`;
  return { code: 'REQUEST_TIMEOUT', message, detail: message, retryable: false };
};

/** The request's deadline passed: before the model was called (EXPIRED), or while it worked. */
const deadlinePassed = (started: boolean): ModelFailure => {
  const message = started
    ? 'the deadline passed while the model worked: the call was cut'
    : 'the deadline passed before the request started';
  return { code: started ? 'DEADLINE_EXCEEDED' : 'EXPIRED', message, detail: message, retryable: false };
};

const interruptedCall = () =>
  ApplicationFailure.nonRetryable('the call was cut: the request was interrupted', interruptedCallType);
