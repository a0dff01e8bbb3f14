import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import type { Context } from 'koa';
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { findModel } from '../../db/models';
import { findOwnWorkRequest, ownerId, ownerOf } from '../../db/work-requests';
import { failureStatus } from '../../domain/inference-front-door';
import { removePayloads } from '../../db/payloads';
import { binaryOutputsWanted, withoutBinaryParameters } from '../../domain/binary-tensors';
import { readBinaryInference, type PayloadDeps } from '../payload-intake';
import { binaryAnswer, presentResult, type PayloadResultDeps } from '../payload-results';
import {
  generateStreamUrl,
  inferenceRequest,
  textResponse,
  type InferenceResponse,
} from '../../domain/inference-protocol';
import { findUnstorableText } from '../../domain/storable-text';
import { startOfStream, streamRestartedMessage } from '../../domain/request-events';
import { answerWithRequestEvents, dataEvent, type RequestEventStreamDeps } from '../request-event-stream';
import { modelId } from '../../domain/model-catalog';
import { waitQuery } from '../../domain/work-request';
import { requireSession, type AuthState } from '../auth/session-auth';
import { ApiError } from '../http/errors';
import { cancelAfterHeader, idempotencyKeyHeader, priorityHeader } from '../http/params';
import type { RequestQuotas } from '../auth/request-quotas';
import type { RequestWorkflows } from '../request-workflows';
import { submitRequest } from '../use-cases/submit-request';
import { dependencyChecks } from './health';
import { bearer, json, oipErrors, schema } from '../http/openapi-parts';

export type InferenceProtocolDeps = RequestEventStreamDeps &
  PayloadDeps &
  PayloadResultDeps & {
    temporal: Client;
    workflows: RequestWorkflows;
    quotas: RequestQuotas;
    version: string;
  };

/** How long an infer waits for its request to end before answering 202 with where to look: `?wait` as for GET /api/requests/:id, 60 s unless set. */
const inferWait = z.strictObject({ wait: waitQuery.shape.wait.unwrap().default(60) });

async function catalogModel(db: DatabasePool, name: string | undefined) {
  const parsed = modelId.safeParse(name);
  const model = parsed.success ? await findModel(db, parsed.data) : null;
  if (!model) throw new ApiError(404, 'UNKNOWN_MODEL', `There is no model "${name}"; GET /api/models lists them`);
  return model;
}

/**
 * An Open Inference Protocol v2 (REST) front door, so that clients of KServe, Triton or MLServer
 * work against Podium unchanged. Models are named by their catalog id.
 *
 * An infer is a durable work request, as `POST /api/requests` makes one, with the same limits,
 * quotas, stats and audit. The call waits for it. Errors take OIP's shape,
 * `{ "error": message }`, with Podium's `code` beside the message.
 */
export function inferenceProtocolRoutes(deps: InferenceProtocolDeps) {
  const { db } = deps;
  const router = new Router<AuthState>();

  router.get('/v2/health/live', (ctx) => {
    ctx.body = { live: true };
  });
  router.get('/v2/health/ready', async (ctx) => {
    const checks = await dependencyChecks(deps);
    const ready = checks.database === 'up' && checks.temporal === 'up';
    ctx.status = ready ? 200 : 503;
    ctx.body = { ready, checks };
  });
  router.get('/v2', (ctx) => {
    ctx.body = { name: 'podium', version: deps.version, extensions: [] };
  });

  router.get('/v2/models/:name', async (ctx) => {
    const model = await catalogModel(db, ctx.params.name);
    ctx.body = { name: model.id, versions: [], platform: model.runtime, inputs: model.inputs, outputs: model.outputs };
  });
  /** Ready to take requests: Podium starts an instance for the first one (scale from zero). */
  router.get('/v2/models/:name/ready', async (ctx) => {
    const model = await catalogModel(db, ctx.params.name);
    ctx.body = { name: model.id, ready: true };
  });

  router.post('/v2/models/:name/infer', requireSession(deps.authenticate), async (ctx) => {
    const model = await catalogModel(db, ctx.params.name);
    const { wait } = inferWait.parse(ctx.query);
    // The body is JSON whatever its Content-Type says (see detectJSON in app.ts), as OIP servers
    // take it; or, with Inference-Header-Content-Length, a JSON header and binary tensors.
    const headerLength = ctx.get('inference-header-content-length');
    const principal = ctx.state.principal!;
    const owner = ownerOf(principal);
    // A binary body's tensors are stored as they come, as payloads the submission names.
    const binary = headerLength ? await readBinaryInference(ctx, headerLength, ownerId(owner), deps) : null;
    const asked = binary ? binary.request : inferenceRequest.parse(ctx.request.body);
    const stored = binary?.payloadIds ?? [];
    const unstorable = findUnstorableText(asked);
    const binaryOutput = binaryOutputsWanted(asked);
    const input = withoutBinaryParameters(asked);
    let submission;
    try {
      if (unstorable) throw new ApiError(400, 'INVALID_TEXT', `${unstorable.path || 'body'} has ${unstorable.problem}`);
      submission = await submitRequest(
        deps,
        principal,
        { model: model.id, input, priority: priorityHeader(ctx), deadline: cancelAfterHeader(ctx) },
        idempotencyKeyHeader(ctx),
        model,
        new Set(stored),
      );
    } catch (error) {
      await removePayloads(deps.db, deps.payloads, stored).catch(() => undefined);
      throw error;
    }
    // A retry (the same Idempotency-Key) gets the first request, which has its own payloads.
    if (submission.replayed) await removePayloads(deps.db, deps.payloads, stored);
    const { request } = submission;
    const ended = await deps.ends.readUntilEnded(
      request.id,
      wait * 1000,
      async () => (await findOwnWorkRequest(db, request.id, owner))!,
    );
    await answerInference(ctx, deps, ended, input.id, binaryOutput);
  });

  /**
   * OIP's generate extension, streamed (MLServer's predict_stream): a durable request whose
   * output comes as server-sent inference responses, each with the next piece of text.
   */
  router.post('/v2/models/:name/generate_stream', requireSession(deps.authenticate), async (ctx) => {
    const model = await catalogModel(db, ctx.params.name);
    const body = inferenceRequest.parse(ctx.request.body);
    const principal = ctx.state.principal!;
    const input = { url: generateStreamUrl, body } as const;
    const { request } = await submitRequest(
      deps,
      principal,
      { model: model.id, input, priority: priorityHeader(ctx), deadline: cancelAfterHeader(ctx) },
      idempotencyKeyHeader(ctx),
      model,
    );
    ctx.set('Podium-Request-Id', request.id);
    const output = model.outputs.find((tensor) => tensor.datatype === 'BYTES')?.name ?? 'output';
    const failed = (error: { code: string; message: string }) =>
      dataEvent({ error: error.message, code: error.code, requestId: request.id });
    answerWithRequestEvents(ctx, deps, { id: request.id, owner: ownerOf(principal) }, startOfStream, {
      async render(event) {
        if (event.event === 'chunk') {
          return { text: dataEvent({ ...textResponse(model.id, output, event.data.text), id: request.id }) };
        }
        if (event.event === 'restart') {
          return {
            text: failed({ code: 'STREAM_RESTARTED', message: streamRestartedMessage(request.id) }),
            last: true,
          };
        }
        if (event.event === 'end' && event.data.status !== 'COMPLETE') {
          const error = event.data.error ?? { code: 'REQUEST_CANCELLED', message: 'the request was cancelled' };
          return { text: failed(error), last: true };
        }
        return { text: '' }; // a status, or the end of a complete stream: MLServer's stream just ends
      },
      sessionEnded: failed({ code: 'SESSION_ENDED', message: 'your session has ended or its token expired' }),
      failed: failed({
        code: 'STREAM_FAILED',
        message: `the stream failed; GET /api/requests/${request.id}/events has the rest`,
      }),
      reconnect: false,
    });
  });
  return router;
}

type RequestSeen = NonNullable<Awaited<ReturnType<typeof findOwnWorkRequest>>>;

/**
 * The model's answer (200), its outputs in binary where the caller asked; the failure in OIP's
 * shape; or, still on its way, 202 and where to look.
 */
async function answerInference(
  ctx: Context,
  deps: PayloadResultDeps,
  request: RequestSeen,
  inferenceId: string | undefined,
  binaryOutput: (name: string) => boolean = () => false,
) {
  ctx.set('Podium-Request-Id', request.id);
  if (request.status === 'COMPLETE') {
    const answer = {
      ...(request.result as InferenceResponse),
      ...(inferenceId === undefined ? {} : { id: inferenceId }),
    };
    const binary = await binaryAnswer(deps, answer, binaryOutput);
    if (!binary) {
      ctx.body = await presentResult(deps, answer);
      return;
    }
    ctx.set('Inference-Header-Content-Length', String(binary.headerLength));
    ctx.type = 'application/octet-stream';
    ctx.length = binary.length;
    ctx.body = binary.body;
    return;
  }
  if (request.status === 'FAILED' || request.status === 'CANCELLED') {
    ctx.status = request.status === 'CANCELLED' ? 409 : failureStatus(request.error);
    const error = request.error ?? { code: 'REQUEST_CANCELLED', message: 'the request was cancelled' };
    ctx.body = { error: error.message, code: error.code, requestId: request.id };
    return;
  }
  ctx.status = 202;
  ctx.set('Location', `/api/requests/${request.id}`);
  ctx.body = {
    id: request.id,
    status: request.status,
    message: `still ${request.status}: GET /api/requests/${request.id}?wait=60 answers once it has ended`,
    links: { self: `/api/requests/${request.id}` },
  };
}

const modelNameParameter = {
  name: 'name',
  in: 'path',
  required: true,
  schema: schema(modelId),
  description: 'the catalog id',
};
const tensorList = z.array(z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number().int()) }));

/** The Open Inference Protocol v2 front door (api/routes/inference-protocol.ts). */
export const inferenceProtocolPaths = {
  '/v2/health/live': {
    get: { summary: 'OIP server liveness', responses: { 200: { description: 'live' }, ...oipErrors(400, 503) } },
  },
  '/v2/health/ready': {
    get: {
      summary: 'OIP server readiness: PostgreSQL and Temporal answer',
      responses: {
        ...oipErrors(400),
        200: { description: 'ready' },
        503: { description: 'not ready: `{ ready: false, checks }` names what is down' },
      },
    },
  },
  '/v2': {
    get: {
      summary: 'OIP server metadata',
      responses: { 200: { description: 'name, version, extensions' }, ...oipErrors(400, 503) },
    },
  },
  '/v2/models/{name}': {
    get: {
      summary: 'OIP model metadata, from the catalog',
      parameters: [modelNameParameter],
      responses: {
        200: {
          description: 'metadata',
          content: json(
            z.object({
              name: z.string(),
              versions: z.array(z.string()),
              platform: z.string(),
              inputs: tensorList,
              outputs: tensorList,
            }),
          ),
        },
        ...oipErrors(400, 404, 503),
      },
    },
  },
  '/v2/models/{name}/ready': {
    get: {
      summary: 'OIP model readiness: in the catalog, so a request is served (an instance starts for it if none runs)',
      parameters: [modelNameParameter],
      responses: { 200: { description: 'ready' }, ...oipErrors(400, 404, 503) },
    },
  },
  '/v2/models/{name}/generate_stream': {
    post: {
      summary: "OIP's generate extension, streamed (MLServer's predict_stream), as a durable work request",
      description:
        'For a model whose catalog entry says `streams: true`. The answer is server-sent events, each an inference response ' +
        'whose BYTES output holds the next piece of text; a failure is an event `{ "error", "code", "requestId" }`. The ' +
        '`Podium-Request-Id` header names the request, whose events (resumable) are at GET /api/requests/{id}/events.',
      security: bearer,
      parameters: [
        modelNameParameter,
        { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } },
      ],
      requestBody: { required: true, content: json(inferenceRequest) },
      responses: {
        200: { description: 'the stream (text/event-stream)' },
        ...oipErrors(400, 401, 404, 413, 422, 429, 503),
      },
    },
  },
  '/v2/models/{name}/infer': {
    post: {
      summary:
        'OIP inference, as a durable work request (the limits, quotas, stats and audit of POST /api/requests) that the call waits for',
      description:
        "The body is JSON whatever its Content-Type. 200: the model's answer, with the Podium-Request-Id header. A request still on its way " +
        'after `wait` seconds: 202 with its id and Location. A failure: OIP\'s `{ "error": message }` with `code` and `requestId`, ' +
        '400 for input the model rejected, 502 when the model failed or could not start, 504 when it took too long, 503 when no instance could serve it, 500 otherwise.',
      security: bearer,
      parameters: [
        modelNameParameter,
        {
          name: 'wait',
          in: 'query',
          required: false,
          schema: { type: 'integer', minimum: 0, maximum: 300, default: 60 },
        },
        { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } },
      ],
      requestBody: { required: true, content: json(inferenceRequest) },
      responses: {
        200: { description: "the model's inference response" },
        202: { description: 'still on its way: poll the Location' },
        ...oipErrors(400, 401, 404, 409, 413, 422, 429, 500, 502, 503, 504),
      },
    },
  },
};
