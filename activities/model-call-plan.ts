import type { RequestResult } from '../domain/work-request';

/**
 * How a request's input is sent to its model: the path and body of the POST, and how its answer
 * is read (a streamed one relayed to storage on the way). One per kind of input: OIP's infer
 * (infer-call.ts), OpenAI calls (openai-call.ts), OIP's generate_stream (generate-stream-call.ts).
 * A body is JSON, or bytes streamed as they are read (OIP's binary tensor data extension).
 */
export type ModelCallPlan = {
  path: string;
  body: unknown;
  /** Sent instead of `body` as JSON: bytes and the headers that say what they are. */
  binary?: { headers: Record<string, string>; bytes: AsyncIterable<Uint8Array> };
  read: (response: Response) => Promise<RequestResult>;
};
