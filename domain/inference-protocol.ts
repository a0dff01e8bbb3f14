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
  'BF16',
  'BYTES',
]);

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

type NestedData = unknown[];
function flatten(data: NestedData): unknown[] {
  return data.flatMap((item) => (Array.isArray(item) ? flatten(item) : [item]));
}

function elementMatches(datatype: z.infer<typeof tensorDatatype>, value: unknown): boolean {
  if (datatype === 'BYTES') return typeof value === 'string';
  if (datatype === 'BOOL') return typeof value === 'boolean';
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  return datatype.startsWith('FP') || datatype === 'BF16' || Number.isInteger(value);
}

/**
 * A tensor. Its elements are in `data`, or, kept as bytes, in the payload that
 * `parameters.payload` names (an upload, or what Podium stored from a binary body): see
 * domain/payload-tensors.ts.
 */
export const inferenceTensor = z
  .object({
    name: z.string().min(1).max(256),
    shape: z.array(z.number().int().nonnegative()).max(16),
    datatype: tensorDatatype,
    parameters: parameters.optional(),
    data: z.array(z.unknown()).optional(),
  })
  .superRefine((tensor, ctx) => {
    const payload = tensor.parameters?.payload;
    if (tensor.data === undefined) {
      if (payload === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['data'],
          message: 'data is required, or parameters.payload naming an upload (POST /api/payloads)',
        });
      } else if (typeof payload !== 'string' || !uuidPattern.test(payload)) {
        ctx.addIssue({
          code: 'custom',
          path: ['parameters', 'payload'],
          message: 'parameters.payload must be the id of an upload (POST /api/payloads)',
        });
      }
      return;
    }
    if (payload !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['parameters', 'payload'],
        message: 'a tensor has data or parameters.payload, not both',
      });
    }
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
export type InferenceTensor = z.infer<typeof inferenceTensor>;

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

/** OIP's generate extension, streamed: the model's `/v2/models/{name}/generate_stream` (MLServer's `predict_stream`). */
export const generateStreamUrl = '/v2/models/{name}/generate_stream';

/**
 * A request's input for an OIP model that streams: the inference request for its
 * generate_stream endpoint, `{ url, body }` as an OpenAI call is written.
 */
export const generateStreamCall = z.strictObject({ url: z.literal(generateStreamUrl), body: inferenceRequest });
export type GenerateStreamCall = z.infer<typeof generateStreamCall>;

export function isGenerateStreamCall(input: object): input is GenerateStreamCall {
  return (input as { url?: unknown }).url === generateStreamUrl;
}

/** The text a streamed OIP answer carries: the strings of its first BYTES output, joined; null when it has none. */
export function streamedText(response: InferenceResponse): string | null {
  const output = response.outputs.find((tensor) => tensor.datatype === 'BYTES');
  return output ? (output.data ?? []).flat(16).join('') : null;
}

/** A streamed text as one OIP response: the whole text as one BYTES element of `name`. */
export function textResponse(modelName: string, name: string, text: string): InferenceResponse {
  return { model_name: modelName, outputs: [{ name, datatype: 'BYTES', shape: [1], data: [text] }] };
}
