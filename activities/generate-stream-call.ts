import { ApplicationFailure } from '@temporalio/activity';
import {
  inferenceResponse,
  streamedText,
  textResponse,
  type GenerateStreamCall,
  type InferenceResponse,
} from '../domain/inference-protocol';
import type { ChunkRelay } from './chunk-relay';
import type { ModelCallPlan } from './model-call-plan';
import { eventJson, readServerSentEvents } from './server-sent-events';

const badResponse = (modelId: string, what: string) =>
  ApplicationFailure.nonRetryable(`model ${modelId} streamed ${what}`, 'MODEL_BAD_RESPONSE');

/** OIP's generate_stream: the inference request under the model's served name, its events relayed. */
export function generateStreamPlan(
  call: GenerateStreamCall,
  requestId: string,
  modelId: string,
  servedModelName: string,
  openRelay: () => ChunkRelay,
): ModelCallPlan {
  const relay = openRelay();
  return {
    path: `/v2/models/${encodeURIComponent(servedModelName)}/generate_stream`,
    body: { ...call.body, id: requestId },
    read: (response) => readGenerateStream(response, modelId, relay),
  };
}

/**
 * A generate_stream's events, each an inference response whose first BYTES output carries the
 * next piece of text (MLServer's predict_stream): each piece relayed to storage, the whole
 * answer one response with the text joined.
 */
async function readGenerateStream(response: Response, modelId: string, relay: ChunkRelay): Promise<InferenceResponse> {
  if (!response.body) throw badResponse(modelId, 'no body');
  let first: InferenceResponse | null = null;
  let text = '';
  await readServerSentEvents(response.body, async (data) => {
    const json = eventJson(data, () => badResponse(modelId, 'an event that is not JSON'));
    // MLServer leaves its CloudEvents headers in each event's parameters (nested: not OIP's
    // parameters); the text is all that is kept.
    const { parameters: _headers, ...event } = (json ?? {}) as Record<string, unknown>;
    const parsed = inferenceResponse.safeParse(event);
    if (!parsed.success) throw badResponse(modelId, 'an event that is not an inference response');
    const piece = streamedText(parsed.data);
    if (piece === null) throw badResponse(modelId, 'a response without a BYTES output: only text streams');
    first ??= parsed.data;
    text += piece;
    await relay.push(piece);
  });
  await relay.finish();
  const output = (first as InferenceResponse | null)?.outputs.find((tensor) => tensor.datatype === 'BYTES');
  return textResponse(modelId, output?.name ?? 'output', text);
}
