/**
 * Podium's errors: one class per kind of answer, each with the API's `code` (switch on it for
 * the exact case: `MODEL_QUEUE_FULL`, `VALIDATION_FAILED`…), its message, the HTTP status and,
 * where there is one, the request's id.
 */
export class PodiumError extends Error {
  override name = 'PodiumError';
  constructor(
    /** Podium's error code, such as `REQUEST_NOT_FOUND`. */
    readonly code: string,
    message: string,
    readonly options: {
      /** The HTTP status of the answer, when the error is one. */
      status?: number;
      /** The request it is about. */
      requestId?: string;
      /** What the API said beyond the message: the fields a VALIDATION_FAILED names, say. */
      details?: unknown;
    } = {},
  ) {
    super(message);
  }
  get status(): number | undefined {
    return this.options.status;
  }
  get requestId(): string | undefined {
    return this.options.requestId;
  }
  get details(): unknown {
    return this.options.details;
  }
}

/** 401: the token is missing, unknown or expired, and could not be renewed. */
export class Unauthorized extends PodiumError {
  override name = 'Unauthorized';
}
/** 403: this token may not do that. */
export class Forbidden extends PodiumError {
  override name = 'Forbidden';
}
/** 404: no such request, model or payload (of yours). */
export class NotFound extends PodiumError {
  override name = 'NotFound';
}
/** 400, 409, 413 or 422: the call was refused as it stands; `details` says what to fix. */
export class InvalidInput extends PodiumError {
  override name = 'InvalidInput';
}
/** 429: too much at once; retried after Retry-After as often as the client allows. */
export class RateLimited extends PodiumError {
  override name = 'RateLimited';
}
/** 503: Podium could not take the call now; retried as often as the client allows. */
export class Unavailable extends PodiumError {
  override name = 'Unavailable';
}
/** The request ended FAILED: `code` is its error's code, such as MODEL_REQUEST_FAILED. */
export class RequestFailed extends PodiumError {
  override name = 'RequestFailed';
}
/** The request ended CANCELLED, so it has no result. */
export class RequestCancelled extends PodiumError {
  override name = 'RequestCancelled';
}
/** The request had not ended when the wait's time was up; it goes on in Podium. */
export class WaitTimeout extends PodiumError {
  override name = 'WaitTimeout';
}

const byStatus: Record<number, typeof PodiumError> = {
  400: InvalidInput,
  401: Unauthorized,
  403: Forbidden,
  404: NotFound,
  409: InvalidInput,
  413: InvalidInput,
  422: InvalidInput,
  429: RateLimited,
  503: Unavailable,
};

/** The error for an error answer's status and body (`{ error: { code, message, details } }`). */
export function errorFromAnswer(status: number, body: unknown, requestId?: string): PodiumError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error ?? {};
  const code = typeof error.code === 'string' ? error.code : `HTTP_${status}`;
  const message = typeof error.message === 'string' ? error.message : `The server answered ${status}`;
  const Kind = byStatus[status] ?? PodiumError;
  return new Kind(code, message, { status, requestId, details: error.details });
}
