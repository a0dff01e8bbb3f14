import { z } from 'zod';

/**
 * The OpenAI API as Podium speaks it: to callers on its `/v1` front door, and to models that
 * serve it (vLLM, llama.cpp's server, TGI, Ollama). Bodies are checked for what Podium relies
 * on; other fields pass through to the model, since each server has its own extensions.
 */

export const openAiEndpoint = z.enum(['/v1/chat/completions', '/v1/completions', '/v1/embeddings']);
export type OpenAiEndpoint = z.infer<typeof openAiEndpoint>;

const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z
    .union([z.string().max(1_000_000), z.array(z.looseObject({ type: z.string() })).max(256)])
    .nullable()
    .optional(),
});

/** `model` names a Podium model on the front door; Podium sends the served name to the model. */
const modelField = z.string().min(1).max(256).optional();

const generation = {
  model: modelField,
  max_tokens: z.number().int().min(1).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.literal(1, 'Podium gives one choice per request: n must be 1').nullable().optional(),
  seed: z.number().int().nullable().optional(),
  stop: z
    .union([z.string().max(256), z.array(z.string().max(256)).max(4)])
    .nullable()
    .optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
};

export const chatCompletionBody = z.looseObject({
  ...generation,
  messages: z.array(message).min(1, 'messages must hold at least one message').max(4_096),
});

export const completionBody = z.looseObject({
  ...generation,
  prompt: z.union([z.string().max(1_000_000), z.array(z.string().max(1_000_000)).length(1)]),
});

export const embeddingBody = z.looseObject({
  model: modelField,
  input: z.union([z.string().max(1_000_000), z.array(z.string().max(1_000_000)).min(1).max(2_048)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1).optional(),
  stream: z.literal(false, 'embeddings do not stream').optional(),
});

/**
 * A request's input for a model that speaks the OpenAI API: the endpoint and its body, as a
 * line of OpenAI's Batch API names them.
 */
export const openAiCall = z.discriminatedUnion('url', [
  z.strictObject({ url: z.literal('/v1/chat/completions'), body: chatCompletionBody }),
  z.strictObject({ url: z.literal('/v1/completions'), body: completionBody }),
  z.strictObject({ url: z.literal('/v1/embeddings'), body: embeddingBody }),
]);
export type OpenAiCall = z.infer<typeof openAiCall>;

/** What an OpenAI endpoint answered, kept as it came (`model` and `id` are Podium's on the way out). */
export const openAiResult = z.looseObject({
  object: z.enum(['chat.completion', 'text_completion', 'list']),
});
export type OpenAiResult = z.infer<typeof openAiResult>;

export const tokenUsage = z.object({
  prompt_tokens: z.number().int().min(0),
  completion_tokens: z.number().int().min(0).optional(),
  total_tokens: z.number().int().min(0),
});
export type TokenUsage = z.infer<typeof tokenUsage>;

export function isOpenAiCall(input: object): input is OpenAiCall {
  const url = (input as { url?: unknown }).url;
  return typeof url === 'string' && url.startsWith('/v1/');
}

/** Whether the call asks for its output as it is made. */
export function streams(call: OpenAiCall): boolean {
  return call.url !== '/v1/embeddings' && call.body.stream === true;
}

/** The tokens the call asks for at most, whichever of OpenAI's two names it uses. */
export function askedMaxTokens(call: OpenAiCall): number | null {
  if (call.url === '/v1/embeddings') return null;
  return call.body.max_completion_tokens ?? call.body.max_tokens ?? null;
}

/**
 * The call as a model with a `maxTokens` limit takes it: above the limit it is refused (null);
 * with no ask, it asks for the limit, so no request runs longer than the catalog allows.
 */
export function withinTokenLimit(call: OpenAiCall, maxTokens: number | null): OpenAiCall | null {
  if (call.url === '/v1/embeddings' || maxTokens === null) return call;
  const asked = askedMaxTokens(call);
  if (asked === null) return { ...call, body: { ...call.body, max_tokens: maxTokens } } as OpenAiCall;
  return asked <= maxTokens ? call : null;
}

/** One streamed chunk's text and what else it said, from either endpoint's chunk shape. */
export const streamedChunk = z.looseObject({
  choices: z
    .array(
      z.looseObject({
        delta: z.looseObject({ content: z.string().nullable().optional() }).optional(),
        text: z.string().optional(),
        finish_reason: z.string().nullable().optional(),
      }),
    )
    .optional(),
  usage: tokenUsage.nullable().optional(),
});
export type StreamedChunk = z.infer<typeof streamedChunk>;

export function chunkText(chunk: StreamedChunk): string {
  const choice = chunk.choices?.[0];
  return choice?.delta?.content ?? choice?.text ?? '';
}

/** A stream's whole answer, as the endpoint would have answered without streaming. */
export function assembledResult(
  url: Exclude<OpenAiEndpoint, '/v1/embeddings'>,
  stream: {
    id: string;
    model: string;
    created: number;
    text: string;
    finishReason: string | null;
    usage: TokenUsage | null;
  },
): OpenAiResult {
  const common = { id: stream.id, created: stream.created, model: stream.model, usage: stream.usage };
  if (url === '/v1/chat/completions') {
    return {
      ...common,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: stream.text },
          finish_reason: stream.finishReason ?? 'stop',
        },
      ],
    };
  }
  return {
    ...common,
    object: 'text_completion',
    choices: [{ index: 0, text: stream.text, finish_reason: stream.finishReason ?? 'stop' }],
  };
}
