import { ApplicationFailure } from '@temporalio/activity';
import {
  assembledResult,
  chunkText,
  openAiResult,
  streamedChunk,
  streams,
  type OpenAiCall,
  type OpenAiResult,
  type TokenUsage,
} from '../domain/openai-api';
import type { ChunkRelay } from './chunk-relay';
import type { ModelCallPlan } from './model-call-plan';
import { eventJson, readServerSentEvents } from './server-sent-events';

const badResponse = (modelId: string, what: string) =>
  ApplicationFailure.nonRetryable(`model ${modelId} answered with ${what}`, 'MODEL_BAD_RESPONSE');

/**
 * A call to a model that speaks the OpenAI API: the call's body under the name the server serves
 * the model by. A stream asks for its usage in its last chunk, as vLLM, llama.cpp and Ollama give
 * it; its chunks go to a relay, opened now so that it claims the stream while the model starts.
 */
export function openAiCallPlan(
  call: OpenAiCall,
  modelId: string,
  servedModelName: string,
  openRelay: () => ChunkRelay,
): ModelCallPlan {
  if (!streams(call) || call.url === '/v1/embeddings') {
    return {
      path: call.url,
      body: { ...call.body, model: servedModelName },
      async read(response) {
        const parsed = openAiResult.safeParse(await response.json().catch(() => null));
        if (!parsed.success) throw badResponse(modelId, 'something that is not an OpenAI response');
        return parsed.data;
      },
    };
  }
  const relay = openRelay();
  return {
    path: call.url,
    body: { ...call.body, model: servedModelName, stream: true, stream_options: { include_usage: true } },
    read: (response) => readOpenAiStream(response, call.url as StreamingEndpoint, modelId, relay),
  };
}

type StreamingEndpoint = Exclude<OpenAiCall['url'], '/v1/embeddings'>;

/**
 * A streamed answer, as the answer it adds up to, each piece of text relayed to storage on the
 * way (the stored chunks concatenate to the answer's text).
 */
async function readOpenAiStream(
  response: Response,
  url: StreamingEndpoint,
  modelId: string,
  relay: ChunkRelay,
): Promise<OpenAiResult> {
  if (!response.body) throw badResponse(modelId, 'no body');

  const stream = {
    id: '',
    model: modelId,
    created: Math.floor(Date.now() / 1000),
    text: '',
    finishReason: null as string | null,
    usage: null as TokenUsage | null,
  };
  await readServerSentEvents(response.body, async (data) => {
    const json = eventJson(data, () => badResponse(modelId, 'a stream chunk that is not JSON'));
    if ((json as { error?: unknown } | null)?.error !== undefined) {
      throw ApplicationFailure.retryable(`model ${modelId} failed while streaming`, 'MODEL_ERROR');
    }
    const chunk = streamedChunk.safeParse(json);
    if (!chunk.success) throw badResponse(modelId, 'a stream chunk of an unknown shape');
    if (!stream.id && typeof (json as { id?: unknown }).id === 'string') stream.id = (json as { id: string }).id;
    stream.finishReason = chunk.data.choices?.[0]?.finish_reason ?? stream.finishReason;
    if (chunk.data.usage) stream.usage = chunk.data.usage;
    const text = chunkText(chunk.data);
    stream.text += text;
    await relay.push(text);
  });
  await relay.finish();
  return assembledResult(url, stream);
}
