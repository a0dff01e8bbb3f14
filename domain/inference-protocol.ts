import { z } from 'zod';

/**
 * The KServe Open Inference Protocol v2 (REST), the contract between Podium and every model
 * server, so Triton, MLServer and KServe runtimes plug in unchanged.
 */
export const tensorDatatype = z.enum([
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
]);

const parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

type NestedData = unknown[];
function flatten(data: NestedData): unknown[] {
  return data.flatMap((item) => (Array.isArray(item) ? flatten(item) : [item]));
}

function elementMatches(datatype: z.infer<typeof tensorDatatype>, value: unknown): boolean {
  if (datatype === 'BYTES') return typeof value === 'string';
  if (datatype === 'BOOL') return typeof value === 'boolean';
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  return datatype.startsWith('FP') || Number.isInteger(value);
}

export const inferenceTensor = z
  .object({
    name: z.string().min(1).max(256),
    shape: z.array(z.number().int().nonnegative()).max(16),
    datatype: tensorDatatype,
    parameters: parameters.optional(),
    data: z.array(z.unknown()),
  })
  .superRefine((tensor, ctx) => {
    const elements = flatten(tensor.data);
    const expected = tensor.shape.reduce((product, size) => product * size, 1);
    if (elements.length !== expected) {
      ctx.addIssue({
        code: 'custom',
        path: ['data'],
        message: `shape [${tensor.shape.join(', ')}] needs ${expected} element(s), data has ${elements.length}`,
      });
    }
    const wrong = elements.findIndex((value) => !elementMatches(tensor.datatype, value));
    if (wrong >= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['data', wrong],
        message: `element ${wrong} is not a valid ${tensor.datatype} value`,
      });
    }
  });

export const inferenceRequest = z.object({
  id: z.string().max(256).optional(),
  parameters: parameters.optional(),
  inputs: z.array(inferenceTensor).min(1).max(64),
  outputs: z.array(z.object({ name: z.string().min(1), parameters: parameters.optional() })).optional(),
});

export const inferenceResponse = z.object({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string().optional(),
  parameters: parameters.optional(),
  outputs: z.array(inferenceTensor),
});

export type InferenceRequest = z.infer<typeof inferenceRequest>;
export type InferenceResponse = z.infer<typeof inferenceResponse>;
