import { z } from 'zod';
import { inferenceRequest, inferenceResponse } from './inference-protocol';
import { modelId } from './model-catalog';
import { requestStatus } from './request-status';

/** Body of `POST /api/requests`. */
export const submitWorkRequest = z.strictObject({
  model: modelId,
  input: inferenceRequest,
});
export type SubmitWorkRequest = z.infer<typeof submitWorkRequest>;

export const requestError = z.object({ code: z.string(), message: z.string() });
export type RequestError = z.infer<typeof requestError>;

/** What the owner of a request sees. */
export const workRequestView = z.object({
  id: z.uuid(),
  model: modelId,
  status: requestStatus,
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  result: inferenceResponse.nullable(),
  error: requestError.nullable(),
});
export type WorkRequestView = z.infer<typeof workRequestView>;

export const workflowIdForRequest = (requestId: string) => `request-${requestId}`;
