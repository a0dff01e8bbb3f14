import type { RequestError } from './work-request';

/**
 * The HTTP status the Open Inference Protocol front door answers for a request that ended
 * without a result: the caller's input (400), a model that took too long (504), a model that
 * could not be served right now (503), anything else the model or Podium got wrong (500).
 */
export function failureStatus(error: RequestError | null): 400 | 500 | 503 | 504 {
  switch (error?.code) {
    case 'MODEL_REJECTED_INPUT':
      return 400;
    case 'REQUEST_TIMEOUT':
      return 504;
    case 'INSTANCE_STARTUP_TIMEOUT':
    case 'MODEL_POOL_FAILING':
    case 'INSTANCE_UNREACHABLE':
    case 'INSTANCE_GONE':
      return 503;
    default:
      return 500;
  }
}
