import { z } from 'zod';
import { generateStreamCall, inferenceRequest, inferenceResponse } from './inference-protocol';
import { modelId, type ModelProtocol } from './model-catalog';
import { isOpenAiCall, openAiCall, openAiResult } from './openai-api';
import { requestPriority } from './request-priority';
import { requestStatus } from './request-status';

/**
 * What a request asks of its model: an OIP v2 inference request; OIP's generate_stream for an
 * OIP model that streams (`{ url: "/v2/models/{name}/generate_stream", body }`); or, for a model
 * that speaks the OpenAI API, an OpenAI call (`{ url, body }`), which may stream.
 */
export const requestInput = z.union([inferenceRequest, generateStreamCall, openAiCall]);
export type RequestInput = z.infer<typeof requestInput>;

/** The protocol a model must speak to take this input. */
export function protocolOf(input: RequestInput): ModelProtocol {
  return isOpenAiCall(input) ? 'openai' : 'oip-v2';
}

/** What the model answered: an OIP inference response, or the OpenAI endpoint's answer. */
export const requestResult = z.union([inferenceResponse, openAiResult]);
export type RequestResult = z.infer<typeof requestResult>;

/** Body of `POST /api/requests`. */
export const submitWorkRequest = z.strictObject({
  model: modelId,
  input: requestInput,
  /** How soon it is served among the model's waiting requests (docs/scheduling.md); normal unless said. */
  priority: requestPriority.optional(),
  /**
   * By when the answer is of use: a duration (`30s`, `1m30s`) or a time (ISO 8601 with its
   * offset). Not started by then: FAILED, EXPIRED; still running: cut, DEADLINE_EXCEEDED.
   */
  deadline: z.string().max(64).optional(),
  /** Called (POST, signed) when the request ends. */
  webhook: z
    .url({ protocol: /^https?$/, error: 'webhook must be an http(s) URL' })
    .max(2048)
    .optional(),
});

/** `Idempotency-Key`: the same key from the same owner gets the same request back. */
export const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'Idempotency-Key is 1–255 visible ASCII characters');

/** `?wait=N` on GET: long-poll up to N seconds for the request to end. */
export const waitQuery = z.strictObject({ wait: z.coerce.number().int().min(0).max(300).optional() });

/** Body of `POST /api/admin/requests/:id/status`. */
export const adminStatusChange = z.strictObject({
  status: z.enum(['REQUESTED', 'FAILED']),
  reason: z.string().trim().min(1).max(500),
});
export type AdminStatusChange = z.infer<typeof adminStatusChange>;
export type SubmitWorkRequest = z.infer<typeof submitWorkRequest>;

export const requestError = z.object({ code: z.string(), message: z.string() });
export type RequestError = z.infer<typeof requestError>;

/** How a request ended, as its workflow decided; REQUEUED starts a new attempt. */
export type RequestEnd =
  { status: 'COMPLETE' } | { status: 'FAILED'; error: RequestError } | { status: 'CANCELLED' } | { status: 'REQUEUED' };

/** What the owner of a request sees. */
export const workRequestView = z.object({
  id: z.uuid(),
  model: modelId,
  status: requestStatus,
  priority: requestPriority,
  /** By when its answer is of use (null: no deadline); see submitWorkRequest. */
  deadline: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  result: requestResult.nullable(),
  error: requestError.nullable(),
  attempt: z.number().int(),
});
export type WorkRequestView = z.infer<typeof workRequestView>;

/** The answer to `POST /api/requests`: the request as it was taken (`GET` it, or wait, for the rest). */
export const submittedWorkRequest = workRequestView.pick({
  id: true,
  status: true,
  model: true,
  priority: true,
  deadline: true,
  createdAt: true,
});
export type SubmittedWorkRequest = z.infer<typeof submittedWorkRequest>;

/** A waiting request's place in its model's line (1: next) and when it should start, once measured. */
export const queuePlace = z.object({ position: z.number().int().min(1), estimatedStartAt: z.string().nullable() });
export type QueuePlace = z.infer<typeof queuePlace>;

/** `GET /api/requests/:id`: the request, with its place in line while it waits for a slot. */
export const workRequestDetail = workRequestView.extend({ queue: queuePlace.optional() });
export type WorkRequestDetail = z.infer<typeof workRequestDetail>;

/** Query of `GET /api/requests`: newest first, keyset-paginated by the last id seen. */
export const listWorkRequestsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.uuid().optional(),
  status: requestStatus.optional(),
});
export type ListWorkRequestsQuery = z.infer<typeof listWorkRequestsQuery>;

/** A request in a list: everything but the result, which `GET /api/requests/:id` returns. */
export const workRequestSummary = workRequestView.omit({ result: true });
export type WorkRequestSummary = z.infer<typeof workRequestSummary>;

/** `GET /api/requests`: a page, and the cursor of the next one (null: the last page). */
export const workRequestPage = z.object({ requests: z.array(workRequestSummary), nextCursor: z.uuid().nullable() });
export type WorkRequestPage = z.infer<typeof workRequestPage>;
