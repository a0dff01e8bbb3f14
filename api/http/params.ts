import { z } from 'zod';
import { modelId } from '../../domain/model-catalog';
import { requestPriority, type RequestPriority } from '../../domain/request-priority';
import { idempotencyKey } from '../../domain/work-request';
import { ApiError } from './errors';
import { parseDuration } from '../../domain/request-deadline';

const uuid = z.uuid();
const kinds = { request: 'REQUEST', instance: 'INSTANCE', user: 'USER', payload: 'PAYLOAD' } as const;

/** The `:id` path parameter of a request, instance or user route: a UUID, else 400 `INVALID_<KIND>_ID`. */
export function idParam(ctx: { params: Record<string, string | undefined> }, kind: keyof typeof kinds): string {
  const id = uuid.safeParse(ctx.params.id);
  if (!id.success)
    throw new ApiError(400, `INVALID_${kinds[kind]}_ID`, `${kind[0]!.toUpperCase()}${kind.slice(1)} ids are UUIDs`);
  return id.data;
}

/** The `:id` path parameter of a model route: a catalog id, else 400 `INVALID_MODEL_ID`. */
export function modelIdParam(ctx: { params: Record<string, string | undefined> }): string {
  const id = modelId.safeParse(ctx.params.id);
  if (!id.success) throw new ApiError(400, 'INVALID_MODEL_ID', id.error.issues[0]!.message);
  return id.data;
}

/** The `Idempotency-Key` header of a submission, checked; undefined when it has none. */
export function idempotencyKeyHeader(ctx: { get: (name: string) => string }): string | undefined {
  const header = ctx.get('idempotency-key');
  return header ? idempotencyKey.parse(header) : undefined;
}

/**
 * The `Podium-Priority` header of a front door's submission (`/v1`, `/v2`, whose bodies are the
 * protocol's own), checked; undefined when it has none.
 */
export function priorityHeader(ctx: { get: (name: string) => string }): RequestPriority | undefined {
  const header = ctx.get('podium-priority');
  if (!header) return undefined;
  const parsed = requestPriority.safeParse(header.trim().toLowerCase());
  if (!parsed.success) throw new ApiError(400, 'INVALID_PRIORITY', 'Podium-Priority is high, normal or low');
  return parsed.data;
}

/**
 * The `Cancel-After` header of a submission (a duration, as Replicate's: `30s`, `1m30s`), as the
 * deadline it names; undefined when it has none. Checked with the body's `deadline` by the
 * submission (domain/request-deadline.ts).
 */
export function cancelAfterHeader(ctx: { get: (name: string) => string }): string | undefined {
  const header = ctx.get('cancel-after').trim();
  if (!header) return undefined;
  if (parseDuration(header) === null) {
    throw new ApiError(400, 'INVALID_DEADLINE', 'Cancel-After is a duration such as 30s, 1m30s or 500ms');
  }
  return header;
}

/** The router's pattern the request matched (`/api/requests/:id`, never the id), if a route did. */
export function routePattern(ctx: object): string | undefined {
  const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
  return typeof route === 'string' ? route : undefined;
}
