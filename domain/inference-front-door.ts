import type { RequestError } from './work-request';

/**
 * The HTTP status the Open Inference Protocol front door answers for a request that ended
 * without a result, as a gateway to the model would: the caller's input (400), a model that
 * failed, answered wrongly or could not start (502), one that took too long (504), one that could not be served
 * right now (503), anything else (500).
 */
export function failureStatus(error: RequestError | null): 400 | 500 | 502 | 503 | 504 {
  switch (error?.code) {
    case 'MODEL_REJECTED_INPUT':
      return 400;
    case 'MODEL_ERROR':
    case 'MODEL_BAD_RESPONSE':
    case 'MODEL_NOT_SERVED':
    // The model's server could not even start (its command or image is wrong): the upstream failed.
    case 'INSTANCE_START_FAILED':
      return 502;
    case 'REQUEST_TIMEOUT':
    // The caller's own deadline (Cancel-After) passed, in line or while the model worked.
    case 'EXPIRED':
    case 'DEADLINE_EXCEEDED':
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
