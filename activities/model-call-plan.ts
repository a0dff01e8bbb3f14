import type { RequestResult } from '../domain/work-request';

/**
 * How a request's input is sent to its model: the path and body of the POST, and how its answer
 * is read (a streamed one relayed to storage on the way). One per kind of input: OIP's infer
 * (model-call.ts), OpenAI calls (openai-call.ts), OIP's generate_stream (generate-stream-call.ts).
 */
export type ModelCallPlan = { path: string; body: unknown; read: (response: Response) => Promise<RequestResult> };
