/**
 * Podium's API from TypeScript, in Node and in browsers: submit a durable request, wait for it,
 * cancel it, follow its events. docs/clients.md shows each step.
 */
export { Podium, answerOf, type PodiumOptions, type RunOptions, type SubmitOptions, type Upload } from './podium';
export { isFinalStatus, PodiumRequest, type RequestView } from './podium-request';
export type { CallOptions, RequestClient } from './request-client';
export type { RequestEvent } from './request-events';
export { TokenCredentials, type Credentials, type SignedIn } from './credentials';
export {
  Forbidden,
  InvalidInput,
  NotFound,
  PodiumError,
  RateLimited,
  RequestCancelled,
  RequestFailed,
  Unauthorized,
  Unavailable,
  WaitTimeout,
  errorFromAnswer,
} from './errors';
export {
  asTensor,
  fromBytes,
  fromJson,
  tensor,
  type Datatype,
  type Outputs,
  type Tensor,
  type TensorLike,
  type TypedArray,
} from './tensors';
export { verifyWebhook, type IncomingHeaders } from './webhooks';
export type { RequestPriority } from '../../../domain/request-priority';
export type {
  RequestInput,
  RequestResult,
  RequestError,
  QueuePlace,
  WorkRequestSummary,
  WorkRequestDetail,
} from '../../../domain/work-request';
export type { InferenceRequest, InferenceResponse, InferenceTensor } from '../../../domain/inference-protocol';
