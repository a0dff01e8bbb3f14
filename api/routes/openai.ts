import type { PayloadStore } from '../../lib/payload-store';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { findModel, listModels } from '../../db/models';
import { findOwnWorkRequest, ownerOf, type RequestOwner } from '../../db/work-requests';
import { failureStatus } from '../../domain/inference-front-door';
import type { ModelSpec } from '../../domain/model-catalog';
import {
  chatCompletionBody,
  completionBody,
  embeddingBody,
  streams,
  type OpenAiCall,
  type OpenAiEndpoint,
} from '../../domain/openai-api';
import { startOfStream, streamRestartedMessage, type RequestEvent } from '../../domain/request-events';
import { requireSession, type AuthState } from '../auth/session-auth';
import type { RequestQuotas } from '../auth/request-quotas';
import { ApiError, openAiError } from '../http/errors';
import { bearer, json } from '../http/openapi-parts';
import { cancelAfterHeader, idempotencyKeyHeader, priorityHeader } from '../http/params';
import { patiently } from '../request-follower';
import { answerWithRequestEvents, dataEvent, type RequestEventStreamDeps } from '../request-event-stream';
import type { RequestWorkflows } from '../request-workflows';
import { submitRequest } from '../use-cases/submit-request';
import { requireJsonBody } from './json-body';

export type OpenAiRouteDeps = RequestEventStreamDeps & {
  workflows: RequestWorkflows;
  quotas: RequestQuotas;
  payloads: PayloadStore;
};

/** The header that asks for the request to be cancelled when the client goes away mid-call. */
export const cancelOnDisconnectHeader = 'Podium-Cancel-On-Disconnect';

/** The longest a call that does not stream waits for its answer: it then answers 504 with the request's id. */
const maxWaitSeconds = 600;

const bodies = {
  '/v1/chat/completions': chatCompletionBody,
  '/v1/completions': completionBody,
  '/v1/embeddings': embeddingBody,
} as const;

async function openAiModel(db: DatabasePool, name: unknown): Promise<ModelSpec> {
  if (typeof name !== 'string' || name === '') {
    throw new ApiError(400, 'VALIDATION_FAILED', 'model: name a model; GET /v1/models lists them', {
      issues: [{ path: ['model'], message: 'required' }],
    });
  }
  const model = await findModel(db, name);
  if (!model) throw new ApiError(404, 'UNKNOWN_MODEL', `There is no model "${name}"; GET /v1/models lists them`);
  return model;
}

/**
 * An OpenAI-compatible front door: the OpenAI SDKs, LangChain and curl work against Podium with
 * its base URL and a Podium token as the API key. Each call is a Podium request (the quotas,
 * stats, audit and pages of `POST /api/requests`, and its `Idempotency-Key`); the answer carries
 * its id in `Podium-Request-Id`. A stream is the request's events as OpenAI's chunks: a client
 * that goes away leaves the request running (unless it sent Podium-Cancel-On-Disconnect: true),
 * and can read the rest from `GET /api/requests/:id/events`.
 */
export function openAiRoutes(deps: OpenAiRouteDeps) {
  const { db } = deps;
  const router = new Router<AuthState>();

  router.get('/v1/models', async (ctx) => {
    const models = (await listModels(db)).filter((model) => model.protocol === 'openai');
    ctx.body = {
      object: 'list',
      data: models.map((model) => ({ id: model.id, object: 'model', created: 0, owned_by: 'podium' })),
    };
  });

  for (const url of Object.keys(bodies) as OpenAiEndpoint[]) {
    router.post(url, requireSession(deps.authenticate), async (ctx) => {
      requireJsonBody(ctx);
      const raw = (ctx.request.body ?? {}) as { model?: unknown };
      const model = await openAiModel(db, raw.model);
      const { model: _named, ...body } = bodies[url].parse(raw);
      // The body was checked by its endpoint's schema: the pair is an OpenAiCall, which TypeScript cannot see.
      const call = { url, body } as OpenAiCall;
      const principal = ctx.state.principal!;
      const submission = {
        model: model.id,
        input: call,
        priority: priorityHeader(ctx),
        deadline: cancelAfterHeader(ctx),
      };
      const { request } = await submitRequest(deps, principal, submission, idempotencyKeyHeader(ctx), model);
      ctx.set('Podium-Request-Id', request.id);
      const owner = ownerOf(principal);
      if (streams(call)) return streamAnswer(ctx, deps, { id: request.id, owner, model: model.id, call });
      const waitSeconds = Math.min(maxWaitSeconds, model.startupTimeoutSeconds + model.requestTimeoutSeconds + 30);
      const ended = await deps.ends.readUntilEnded(
        request.id,
        waitSeconds * 1000,
        async () => (await findOwnWorkRequest(db, request.id, owner))!,
      );
      if (ended.status === 'COMPLETE') {
        ctx.body = { ...(ended.result as object), model: model.id };
        return;
      }
      throw endedWithout(ended);
    });
  }
  return router;
}

function endedWithout(request: { id: string; status: string; error: { code: string; message: string } | null }) {
  if (request.status === 'FAILED') {
    const error = request.error ?? { code: 'MODEL_REQUEST_FAILED', message: 'the request failed' };
    return new ApiError(failureStatus(request.error), error.code, error.message, { requestId: request.id });
  }
  if (request.status === 'CANCELLED') {
    return new ApiError(409, 'REQUEST_CANCELLED', 'The request was cancelled', { requestId: request.id });
  }
  return new ApiError(
    504,
    'REQUEST_STILL_RUNNING',
    `The request is still ${request.status}: GET /api/requests/${request.id}?wait=60 answers once it has ended`,
    { requestId: request.id },
  );
}

/**
 * The request's events as OpenAI's stream: a chunk per stored chunk, the finish and usage from
 * the stored result, then `[DONE]`. A failure, or a later try that restarted with different
 * output, ends the stream with OpenAI's error object (OpenAI's SDKs raise it).
 */
function streamAnswer(
  ctx: Context,
  deps: OpenAiRouteDeps,
  request: { id: string; owner: RequestOwner; model: string; call: OpenAiCall },
) {
  const chat = request.call.url === '/v1/chat/completions';
  const created = Math.floor(Date.now() / 1000);
  const id = `${chat ? 'chatcmpl' : 'cmpl'}-${request.id}`;
  const object = chat ? 'chat.completion.chunk' : 'text_completion';
  const includeUsage =
    request.call.url !== '/v1/embeddings' && request.call.body.stream_options?.include_usage === true;
  const cancelOnDisconnect = ctx.get(cancelOnDisconnectHeader).toLowerCase() === 'true';
  const chunk = (choice: object | null, usage: unknown = undefined) =>
    dataEvent({
      id,
      object,
      created,
      model: request.model,
      choices: choice ? [choice] : [],
      ...(usage ? { usage } : {}),
    });
  const piece = (text: string, finish: string | null) =>
    chat ? { index: 0, delta: { content: text }, finish_reason: finish } : { index: 0, text, finish_reason: finish };
  const error = (apiError: ApiError) => dataEvent(openAiError(apiError));

  /** The end: the finish and usage from the stored result, then [DONE]; or the failure. */
  const ending = async (end: Extract<RequestEvent, { event: 'end' }>, closed: AbortSignal) => {
    const ended = await patiently(() => findOwnWorkRequest(deps.db, request.id, request.owner), closed);
    if (!ended || ended.status !== 'COMPLETE') {
      return error(endedWithout(ended ?? { ...request, status: end.data.status, error: end.data.error }));
    }
    const result = ended.result as { choices?: { finish_reason?: string }[]; usage?: unknown };
    const usage = includeUsage && result.usage ? chunk(null, result.usage) : '';
    return `${chunk(piece('', result.choices?.[0]?.finish_reason ?? 'stop'))}${usage}data: [DONE]\n\n`;
  };

  answerWithRequestEvents(ctx, deps, request, startOfStream, {
    opening: chat ? chunk({ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }) : undefined,
    async render(event, closed) {
      if (event.event === 'chunk') return { text: chunk(piece(event.data.text, null)) };
      if (event.event === 'restart') {
        const restarted = new ApiError(502, 'STREAM_RESTARTED', streamRestartedMessage(request.id), {
          requestId: request.id,
        });
        return { text: error(restarted), last: true };
      }
      if (event.event === 'end') return { text: await ending(event, closed), last: true };
      return { text: '' }; // a status: OpenAI's stream has no word for it
    },
    sessionEnded: error(new ApiError(401, 'SESSION_ENDED', 'Your session has ended')),
    failed: error(
      new ApiError(
        500,
        'STREAM_FAILED',
        `The stream failed; the request goes on: GET /api/requests/${request.id}/events has the rest`,
        { requestId: request.id },
      ),
    ),
    reconnect: false,
    clientGone: cancelOnDisconnect ? () => deps.workflows.cancel(request.id).then(() => undefined) : undefined,
  });
}

const errorBody = json(
  z.object({
    error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string() }),
  }),
);
const openAiErrors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, { description: 'error', content: errorBody }]));
const callParameters = [
  { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } },
  {
    name: cancelOnDisconnectHeader,
    in: 'header',
    required: false,
    schema: { type: 'string', enum: ['true', 'false'] },
    description: 'true: cancel the request when the client goes away before the end (default: it runs on)',
  },
];
const callOperation = (summary: string, body: z.ZodType) => ({
  post: {
    summary,
    description:
      'A Podium request (quotas, stats, audit, Idempotency-Key); the `Podium-Request-Id` header names it. With `stream: true` ' +
      'the answer is OpenAI server-sent chunks ending with `data: [DONE]`; a client that goes away leaves the request running ' +
      'unless it sends Podium-Cancel-On-Disconnect: true, and can read the rest at GET /api/requests/{id}/events. ' +
      "Errors take OpenAI's shape with Podium's code.",
    security: bearer,
    parameters: callParameters,
    requestBody: { required: true, content: json(body) },
    responses: {
      200: { description: 'the answer, or its stream (text/event-stream)' },
      ...openAiErrors(400, 401, 404, 409, 415, 422, 429, 500, 502, 503, 504),
    },
  },
});

/** The OpenAI-compatible front door (api/routes/openai.ts). */
export const openAiPaths = {
  '/v1/models': {
    get: {
      summary: 'The models that speak the OpenAI API, as OpenAI lists models',
      responses: { 200: { description: 'models' }, ...openAiErrors(400, 503) },
    },
  },
  '/v1/chat/completions': callOperation('OpenAI chat completion, streamed or not', chatCompletionBody),
  '/v1/completions': callOperation('OpenAI (legacy) completion, streamed or not', completionBody),
  '/v1/embeddings': callOperation('OpenAI embeddings', embeddingBody),
};
