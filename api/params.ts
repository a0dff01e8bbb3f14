import { z } from 'zod';
import { ApiError } from './errors';

const uuid = z.uuid();
const kinds = { request: 'REQUEST', instance: 'INSTANCE' } as const;

/** The `:id` path parameter of a request or instance route: a UUID, else 400 `INVALID_<KIND>_ID`. */
export function idParam(ctx: { params: Record<string, string | undefined> }, kind: keyof typeof kinds): string {
  const id = uuid.safeParse(ctx.params.id);
  if (!id.success) throw new ApiError(400, `INVALID_${kinds[kind]}_ID`, `${kind[0]!.toUpperCase()}${kind.slice(1)} ids are UUIDs`);
  return id.data;
}
