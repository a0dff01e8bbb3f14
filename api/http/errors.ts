import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { isDatabaseUnavailable } from '../../db/database-failures';
import { QueryDeadlineError } from '../../db/query-deadline';

/** An error meant for the API's caller: a status, a stable code, a message a person can act on. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The body parser's errors (co-body / raw-body), named by their `type`. */
const bodyErrors: Record<string, [number, string, string]> = {
  'entity.too.large': [413, 'PAYLOAD_TOO_LARGE', 'The request body is larger than the limit'],
  'entity.parse.failed': [400, 'MALFORMED_JSON', 'The request body is not valid JSON'],
  'encoding.unsupported': [415, 'UNSUPPORTED_ENCODING', 'The request body encoding is not supported'],
  'charset.unsupported': [415, 'UNSUPPORTED_CHARSET', 'The request body charset is not supported'],
  'request.size.invalid': [400, 'INVALID_CONTENT_LENGTH', 'The request body does not match its Content-Length'],
  'request.aborted': [400, 'REQUEST_ABORTED', 'The request was aborted while its body was read'],
};

/** How long an overloaded API asks callers to wait: long enough to drain a burst, short for a person. */
const overloadRetryAfterSeconds = 1;

function toApiError(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error;
  // PostgreSQL hung or cannot be reached (down, restarting, a connection cut): the caller may try
  // again shortly; after a commit that went unanswered, only once it has looked.
  if (error instanceof QueryDeadlineError && error.at === 'commit') {
    return new ApiError(
      503,
      'DATABASE_UNAVAILABLE',
      'The database did not confirm in time whether this was done: look before trying again (a submission: retry with the same Idempotency-Key)',
      { outcome: 'unknown' },
    );
  }
  // The database answers, only not this caller within its budget: load, not an outage.
  if (error instanceof QueryDeadlineError && error.databaseAnswering) {
    return new ApiError(
      503,
      'SERVICE_OVERLOADED',
      'The service is busy and could not take this in time; try again after Retry-After seconds',
      {
        retryAfterSeconds: overloadRetryAfterSeconds,
      },
    );
  }
  if (error instanceof QueryDeadlineError) {
    return new ApiError(503, 'DATABASE_UNAVAILABLE', 'The database did not answer in time; try again shortly');
  }
  if (isDatabaseUnavailable(error))
    return new ApiError(503, 'DATABASE_UNAVAILABLE', 'The database cannot be reached; try again shortly');
  if (error instanceof ZodError) {
    return new ApiError(
      400,
      'VALIDATION_FAILED',
      error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '),
      { issues: error.issues.map(({ path, message, code }) => ({ path, message, code })) },
    );
  }
  // co-body rethrows JSON.parse's SyntaxError with status 400 and no `type`.
  if (error instanceof SyntaxError && (error as { status?: number }).status === 400) {
    return new ApiError(400, 'MALFORMED_JSON', `The request body is not valid JSON: ${error.message}`);
  }
  const type = (error as { type?: unknown })?.type;
  if (typeof type === 'string' && bodyErrors[type]) {
    const [status, code, message] = bodyErrors[type];
    const limit = (error as { limit?: number }).limit;
    return new ApiError(
      status,
      code,
      limit ? `${message} (${limit} bytes)` : message,
      limit ? { limitBytes: limit } : undefined,
    );
  }
  return null;
}

/** The Open Inference Protocol front door (api/routes/inference-protocol.ts). */
export const isInferenceProtocol = (path: string) => path === '/v2' || path.startsWith('/v2/');

/** The OpenAI-compatible front door (api/routes/openai.ts). */
export const isOpenAiApi = (path: string) => path === '/v1' || path.startsWith('/v1/');

/** OpenAI's error `type` for an HTTP status, as its SDKs read it. */
export function openAiErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  return status < 500 ? 'invalid_request_error' : 'server_error';
}

/** An error in OpenAI's shape, `{ error: { message, type, param, code } }`, with Podium's details beside. */
export function openAiError(error: Pick<ApiError, 'status' | 'code' | 'message' | 'details'>) {
  const issues = (error.details as { issues?: { path: (string | number)[] }[] } | undefined)?.issues;
  const param = issues?.[0]?.path.join('.') || null;
  return {
    error: {
      message: error.message,
      type: openAiErrorType(error.status),
      param,
      code: error.code,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}

/**
 * Turns every thrown error into `{ error: { code, message, details } }` with its HTTP status;
 * under `/v2` into OIP's `{ error: message }`, with `code` and `details` beside it; under `/v1`
 * into OpenAI's `{ error: { message, type, param, code } }`.
 */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      const ours = ctx.path.startsWith('/api') || isInferenceProtocol(ctx.path) || isOpenAiApi(ctx.path);
      if (ctx.body === undefined && ours) {
        if (ctx.status === 404) throw new ApiError(404, 'NOT_FOUND', `No route for ${ctx.method} ${ctx.path}`);
        // The router answers 501 for a method it knows nowhere (TRACE, QUERY…): for a resource
        // that exists that is a method not allowed on it, with the same Allow header.
        if (ctx.status === 405 || ctx.status === 501) {
          throw new ApiError(
            405,
            'METHOD_NOT_ALLOWED',
            `${ctx.method} is not allowed on ${ctx.path}; use ${ctx.response.get('Allow')}`,
          );
        }
      }
    } catch (error) {
      const apiError = toApiError(error);
      if (!apiError) logger.error({ err: error, method: ctx.method, path: ctx.path }, 'unhandled error');
      const { status, code, message, details } =
        apiError ?? new ApiError(500, 'INTERNAL_ERROR', 'Something went wrong on our side; it has been logged');
      ctx.status = status;
      // A refusal that says when to come back (429, an overloaded 503) says it in the header too.
      const retryAfter = (details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
      if (typeof retryAfter === 'number') ctx.set('Retry-After', String(retryAfter));
      const detailsPart = details === undefined ? {} : { details };
      if (isOpenAiApi(ctx.path)) ctx.body = openAiError({ status, code, message, details });
      else if (isInferenceProtocol(ctx.path)) ctx.body = { error: message, code, ...detailsPart };
      else ctx.body = { error: { code, message, ...detailsPart } };
    }
  };
}
