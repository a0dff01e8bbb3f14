import { z } from 'zod';
import { modelId } from '../../domain/model-catalog';

// The pieces every route module's OpenAPI paths are written with (api/openapi.ts merges them).

/** A zod schema as JSON Schema, as the request takes it. */
export const schema = (type: z.ZodType) => z.toJSONSchema(type, { io: 'input', unrepresentable: 'any' });
export const json = (type: z.ZodType) => ({ 'application/json': { schema: schema(type) } });
const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
/** Podium's `{ error: { code, message, details } }` for each status. */
export const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, { description: 'error', content: json(errorBody) }]));
export const bearer = [{ bearer: [] }];
/** The Open Inference Protocol's error body, under /v2, with Podium's code beside the message. */
export const oipErrors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: 'error',
        content: json(
          z.object({
            error: z.string(),
            code: z.string(),
            details: z.unknown().optional(),
            requestId: z.uuid().optional(),
          }),
        ),
      },
    ]),
  );
export const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
export const modelIdParameter = { name: 'id', in: 'path', required: true, schema: schema(modelId) };
