import { z } from 'zod';
import { accountActionBody, loginBody, signupBody, userView } from '../domain/accounts';
import { newWebhookSecret, webhookSecretRotation, webhookSecretView } from '../domain/webhook-secrets';
import { modelId, modelSettings, modelSpec, publicModelSpec } from '../domain/model-catalog';
import { adminRequestSummary } from '../domain/admin-views';
import { autoscalerDecision } from '../domain/autoscaler-decision';
import { buildInfo } from '../lib/build-info';
import { inferenceRequest } from '../domain/inference-protocol';
import { statsGroup, statsRow } from '../domain/stats-query';
import { statsSource } from '../domain/stats-rollup-group';
import {
  adminStatusChange,
  listWorkRequestsQuery,
  submitWorkRequest,
  workRequestSummary,
  workRequestView,
} from '../domain/work-request';

const schema = (type: z.ZodType) => z.toJSONSchema(type, { io: 'input', unrepresentable: 'any' });
const json = (type: z.ZodType) => ({ 'application/json': { schema: schema(type) } });
const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, { description: 'error', content: json(errorBody) }]));
const bearer = [{ bearer: [] }];
/** The Open Inference Protocol's error body, under /v2, with Podium's code beside the message. */
const oipErrors = (...statuses: number[]) =>
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
const modelNameParameter = {
  name: 'name',
  in: 'path',
  required: true,
  schema: schema(modelId),
  description: 'the catalog id',
};
const tensorList = z.array(z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number().int()) }));

/** The Open Inference Protocol v2 front door (api/routes/inference-protocol.ts). */
const inferenceProtocolPaths = {
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
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const modelIdParameter = { name: 'id', in: 'path', required: true, schema: schema(modelId) };
const signedIn = z.object({
  user: userView,
  accessToken: z.string().optional().describe('absent when X-Podium-Token-Transport: cookie'),
  accessTokenExpiresAt: z.string(),
  refreshToken: z.string().optional(),
  refreshTokenExpiresAt: z.string(),
});

const queryParameters = Object.entries(listWorkRequestsQuery.shape).map(([name, type]) => ({
  name,
  in: 'query',
  required: false,
  schema: schema(type),
}));

/**
 * What every operation can answer: 400 for text the database cannot store (INVALID_TEXT), in the
 * path or the query as well as the body, refused before any route runs (api/http/text-guard.ts); and
 * 503 DATABASE_UNAVAILABLE when PostgreSQL cannot be reached (SERVICE_OVERLOADED, with Retry-After,
 * when it answers but the API is too busy to reach it in time). An operation with a body can also
 * answer 413 (larger than REQUEST_BODY_LIMIT), and one whose body is required 415 (not JSON).
 */
function withEdgeErrors<T extends Record<string, Record<string, { responses: Record<string | number, unknown> }>>>(
  paths: T,
): T {
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      const body = (operation as { requestBody?: { required?: boolean } }).requestBody;
      const bodyErrors = !body ? [] : body.required ? [413, 415] : [413];
      operation.responses = { ...errors(400, 503, ...bodyErrors), ...operation.responses };
    }
  }
  return paths;
}

/** The OpenAPI 3.1 document served at `/api/openapi.json`, built from the same zod schemas the routes use. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Podium API',
    version: buildInfo().version,
    description: 'Requests for machine-learning models, each a durable Temporal workflow.',
  },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  paths: {
    ...withEdgeErrors({
      '/api/sessions/anonymous': {
        post: {
          summary: 'Start an anonymous session; its token authorises request calls (not account or admin ones)',
          responses: {
            201: {
              description: 'the session',
              content: json(
                z.object({
                  token: z.string(),
                  sessionId: z.uuid(),
                  kind: z.literal('anonymous'),
                  expiresAt: z.string(),
                }),
              ),
            },
            ...errors(429),
          },
        },
      },
      '/api/models': {
        get: {
          summary: 'The model catalog',
          responses: { 200: { description: 'models', content: json(z.object({ models: z.array(publicModelSpec) })) } },
        },
      },
      '/api/requests': {
        post: {
          summary: 'Submit a work request (input: an Open Inference Protocol v2 inference request)',
          security: bearer,
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 255 },
              description: 'the same key gets the same request back (200, Idempotent-Replayed: true)',
            },
          ],
          requestBody: { required: true, content: json(submitWorkRequest) },
          responses: {
            202: {
              description: 'accepted; poll the Location',
              content: json(workRequestView.pick({ id: true, status: true, model: true, createdAt: true })),
            },
            200: { description: 'replayed: the request made earlier with this Idempotency-Key' },
            ...errors(400, 401, 422, 429, 503),
          },
        },
        get: {
          summary: "This session's requests, newest first",
          security: bearer,
          parameters: queryParameters,
          responses: {
            200: {
              description: 'a page',
              content: json(z.object({ requests: z.array(workRequestSummary), nextCursor: z.uuid().nullable() })),
            },
            ...errors(400, 401),
          },
        },
      },
      '/api/requests/{id}': {
        get: {
          summary: 'One request with its status, its result or error once ended, webhook deliveries and links',
          security: bearer,
          parameters: [
            idParameter,
            {
              name: 'wait',
              in: 'query',
              required: false,
              schema: { type: 'integer', minimum: 0, maximum: 300 },
              description: 'long-poll up to N seconds for the request to end',
            },
          ],
          responses: { 200: { description: 'the request', content: json(workRequestView) }, ...errors(400, 401, 404) },
        },
      },
      '/api/requests/{id}/cancel': {
        post: {
          summary: 'Cancel your request: a queued one at once, a running one as its inference is cut',
          security: bearer,
          parameters: [idParameter],
          responses: { 202: { description: 'cancelling' }, ...errors(400, 401, 404, 409, 503) },
        },
      },
      '/api/webhook-secrets': {
        get: {
          summary:
            'Your webhook signing secrets that still sign: the current one, and those replaced but not yet expired (never the secret itself)',
          security: bearer,
          responses: {
            200: { description: 'the live secrets', content: json(z.object({ secrets: z.array(webhookSecretView) })) },
            ...errors(401),
          },
        },
        post: {
          summary:
            'A new signing secret for your webhooks, shown once; the one it replaces signs beside it for previousValidForSeconds (a day)',
          security: bearer,
          requestBody: { required: false, content: json(webhookSecretRotation) },
          responses: {
            201: { description: 'the new secret', content: json(newWebhookSecret) },
            ...errors(400, 401, 415),
          },
        },
      },
      '/api/admin/requests/{id}/status': {
        post: {
          summary: 'ADMIN: re-queue (REQUESTED, a new attempt) or fail (FAILED) any request; audit-logged',
          security: bearer,
          parameters: [idParameter],
          requestBody: { required: true, content: json(adminStatusChange) },
          responses: { 202: { description: 'accepted' }, ...errors(400, 401, 403, 404, 409, 503) },
        },
      },
      '/api/auth/signup': {
        post: {
          summary: 'Create an account (and sign it in). Rule failures have their own codes, e.g. PASSWORD_TOO_COMMON',
          requestBody: { required: true, content: json(signupBody) },
          responses: { 201: { description: 'signed in', content: json(signedIn) }, ...errors(400, 409, 429) },
        },
      },
      '/api/auth/login': {
        post: {
          summary: 'Sign in with a username or an email; sets httpOnly cookies and returns the tokens',
          requestBody: { required: true, content: json(loginBody) },
          responses: { 200: { description: 'signed in', content: json(signedIn) }, ...errors(400, 401, 429) },
        },
      },
      '/api/auth/refresh': {
        post: {
          summary: 'Rotate the refresh token (JSON refreshToken, or the cookie) for new tokens',
          requestBody: { content: json(z.object({ refreshToken: z.string().optional() })) },
          responses: { 200: { description: 'new tokens', content: json(signedIn) }, ...errors(400, 401, 409) },
        },
      },
      '/api/auth/logout': {
        post: {
          summary: 'End the session (its refresh token, or the access token)',
          security: bearer,
          responses: { 204: { description: 'ended' }, ...errors(401) },
        },
      },
      '/api/auth/me': {
        get: {
          summary: 'The signed-in user and permissions',
          security: bearer,
          responses: { 200: { description: 'me', content: json(z.object({ user: userView })) }, ...errors(401, 403) },
        },
      },
      '/api/admin/users': {
        get: {
          summary: 'Accounts and their permissions (ADMIN)',
          security: bearer,
          parameters: [
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100 } },
            { name: 'after', in: 'query', required: false, schema: { type: 'string' } },
          ],
          responses: { 200: { description: 'a page of users' }, ...errors(400, 401, 403) },
        },
      },
      '/api/admin/users/{id}/sessions/end': {
        post: {
          summary: 'Ends every session of the user at once (ADMIN, audited USER_SESSIONS_END)',
          security: bearer,
          parameters: [idParameter],
          requestBody: { required: true, content: json(accountActionBody) },
          responses: {
            200: {
              description: 'how many sessions were live',
              content: json(z.object({ endedSessions: z.number().int() })),
            },
            ...errors(400, 401, 403, 404),
          },
        },
      },
      '/api/admin/users/{id}/disable': {
        post: {
          summary:
            'Disables the account: it cannot sign in, and its sessions end (ADMIN, audited USER_DISABLE); 409 CANNOT_DISABLE_SELF',
          security: bearer,
          parameters: [idParameter],
          requestBody: { required: true, content: json(accountActionBody) },
          responses: {
            200: {
              description: 'disabled',
              content: json(z.object({ disabled: z.literal(true), endedSessions: z.number().int() })),
            },
            ...errors(400, 401, 403, 404, 409),
          },
        },
      },
      '/api/admin/users/{id}/enable': {
        post: {
          summary: 'Lets a disabled account sign in again (ADMIN, audited USER_ENABLE)',
          security: bearer,
          parameters: [idParameter],
          requestBody: { required: true, content: json(accountActionBody) },
          responses: {
            200: { description: 'enabled', content: json(z.object({ disabled: z.literal(false) })) },
            ...errors(400, 401, 403, 404),
          },
        },
      },
      '/api/admin/requests': {
        get: {
          summary: "Every user's requests, newest first (ADMIN). Never input, result or error message.",
          security: bearer,
          parameters: [
            { name: 'user', description: 'user id or username', schema: { type: 'string' } },
            {
              name: 'session',
              description: 'session id (e.g. an anonymous one)',
              schema: { type: 'string', format: 'uuid' },
            },
            { name: 'model', schema: { type: 'string' } },
            { name: 'status', schema: { type: 'string' } },
            { name: 'from', description: 'first UTC day included', schema: { type: 'string', format: 'date' } },
            { name: 'to', description: 'last UTC day included', schema: { type: 'string', format: 'date' } },
            { name: 'cursor', schema: { type: 'string', format: 'uuid' } },
            { name: 'limit', schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 } },
          ].map((parameter) => ({ in: 'query', required: false, ...parameter })),
          responses: {
            200: {
              description: 'a page',
              content: json(z.object({ requests: z.array(adminRequestSummary), nextCursor: z.string().nullable() })),
            },
            ...errors(400, 401, 403),
          },
        },
      },
      '/api/admin/requests/{id}/sensitive': {
        get: {
          summary: "A request's input, result and error (ADMIN). Writes an audit_log row first; no row, no data.",
          security: bearer,
          parameters: [idParameter],
          responses: { 200: { description: 'the sensitive fields' }, ...errors(400, 401, 403, 404) },
        },
      },
      '/api/admin/instances': {
        get: {
          summary:
            'Live model instances: records joined with the runtime (pod phase, node, raw Kubernetes events) (ADMIN)',
          description:
            "`pools` lists the running pool workflows of the catalog's models with their health: `FAILING` when the pool's " +
            'workflow task keeps failing (its queued requests then fail `MODEL_POOL_FAILING`), with a message naming the workflow.',
          security: bearer,
          parameters: [
            { name: 'model', schema: { type: 'string' } },
            {
              name: 'from',
              description: 'instance started on or after this UTC day',
              schema: { type: 'string', format: 'date' },
            },
            {
              name: 'to',
              description: 'instance started on or before this UTC day',
              schema: { type: 'string', format: 'date' },
            },
            { name: 'status', description: 'pod phase or instance status, any case', schema: { type: 'string' } },
          ].map((parameter) => ({ in: 'query', required: false, ...parameter })),
          responses: { 200: { description: '{ instances, pools, at }' }, ...errors(400, 401, 403) },
        },
      },
      '/api/admin/instances/autoscaler/decisions': {
        get: {
          summary:
            "The node autoscaler's latest decisions, newest first: what it saw, planned and did, and why (ADMIN)",
          security: bearer,
          parameters: [
            {
              name: 'limit',
              in: 'query',
              required: false,
              description: 'how many (default 20)',
              schema: { type: 'integer', minimum: 1, maximum: 200 },
            },
          ],
          responses: {
            200: { description: 'decisions', content: json(z.object({ decisions: z.array(autoscalerDecision) })) },
            ...errors(401, 403),
          },
        },
      },
      '/api/admin/instances/{id}': {
        get: {
          summary:
            "An instance's history: log, its pod's Kubernetes events (kept after the pod is gone), requests served, its pool workflow's events about it (ADMIN)",
          security: bearer,
          parameters: [idParameter],
          responses: { 200: { description: 'history' }, ...errors(400, 401, 403, 404) },
        },
      },
      '/api/admin/instances/{id}/stop': {
        post: {
          summary: "Stops an instance through its model's pool (ADMIN, audited)",
          security: bearer,
          parameters: [idParameter],
          responses: { 202: { description: 'stopping' }, ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/api/admin/instances/{id}/replace': {
        post: {
          summary:
            "Replaces an instance through its model's pool, interrupting no request: a replacement starts, new requests go elsewhere, and it stops once those it serves have finished (ADMIN, audited)",
          security: bearer,
          parameters: [idParameter],
          responses: { 202: { description: 'replacing' }, ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/api/admin/models': {
        get: {
          summary: 'The model catalog with every field, the local command too (MODEL_ADMIN)',
          security: bearer,
          responses: {
            200: { description: 'models', content: json(z.object({ models: z.array(modelSpec) })) },
            ...errors(401, 403),
          },
        },
      },
      '/api/admin/models/{id}': {
        get: {
          summary: 'One model of the catalog (MODEL_ADMIN)',
          security: bearer,
          parameters: [modelIdParameter],
          responses: {
            200: {
              description: 'the model, and its settings as PUT takes them back',
              content: json(z.object({ model: modelSpec, settings: modelSettings })),
            },
            ...errors(401, 403, 404),
          },
        },
        post: {
          summary:
            'Registers a new model; 409 MODEL_EXISTS when the id is taken, 400 LOCAL_COMMAND_REFUSED when the local runtime would not run it (MODEL_ADMIN, audited)',
          security: bearer,
          parameters: [modelIdParameter],
          requestBody: { required: true, content: json(modelSettings) },
          responses: {
            201: { description: 'registered', content: json(z.object({ model: modelSpec })) },
            ...errors(400, 401, 403, 409),
          },
        },
        put: {
          summary:
            'Registers a model (201) or replaces its settings (200); its pool takes them at once (MODEL_ADMIN, audited)',
          security: bearer,
          parameters: [modelIdParameter],
          requestBody: { required: true, content: json(modelSettings) },
          responses: {
            200: { description: 'replaced', content: json(z.object({ model: modelSpec })) },
            201: { description: 'registered', content: json(z.object({ model: modelSpec })) },
            ...errors(400, 401, 403),
          },
        },
        delete: {
          summary: 'Deletes a model: new requests get UNKNOWN_MODEL, the ones it has finish (MODEL_ADMIN, audited)',
          security: bearer,
          parameters: [modelIdParameter],
          responses: {
            200: {
              description: 'deleted; `draining` counts the requests left to finish',
              content: json(
                z.object({
                  deleted: modelId,
                  draining: z.object({ waiting: z.number().int(), processing: z.number().int() }),
                }),
              ),
            },
            ...errors(401, 403, 404),
          },
        },
      },
      '/api/admin/stats': {
        get: {
          summary: 'Request stats with filters, rollups and time buckets; JSON pages or one streamed CSV (ADMIN)',
          description:
            'Dates are whole days in `tz` (UTC by default); `to` is included. No rollup and no bucket: one row per request attempt, ' +
            'newest first, paginated by `cursor`. Otherwise one row per group (bucket × model × status, as asked), all at once. ' +
            'Durations in ms: queue wait = pod ready − request, processing = processed − pod ready, total = processed − request. ' +
            'Groups come from the hourly, daily and monthly rollups when they can answer: counts, averages and maxima exact, percentiles within ' +
            '`source.percentileRelativeError` (1 %) of percentile_cont; otherwise (a zone with a half-hour offset, a backfill pending) ' +
            'from the rows, exact, with `source.reason`. The CSV is always read from the rows.',
          security: bearer,
          parameters: [
            {
              name: 'model',
              description: 'one or more model ids, comma-separated or repeated',
              schema: { type: 'string' },
            },
            { name: 'from', description: 'first day included, YYYY-MM-DD', schema: { type: 'string', format: 'date' } },
            { name: 'to', description: 'last day included, YYYY-MM-DD', schema: { type: 'string', format: 'date' } },
            { name: 'status', schema: { type: 'string', enum: ['success', 'failure'] } },
            { name: 'rollup', description: 'model, status or model,status', schema: { type: 'string' } },
            { name: 'bucket', schema: { type: 'string', enum: ['hour', 'day'] } },
            {
              name: 'tz',
              description: 'IANA time zone of the dates and buckets',
              schema: { type: 'string', default: 'UTC' },
            },
            {
              name: 'cursor',
              description: 'nextCursor of the previous page (raw rows only)',
              schema: { type: 'string' },
            },
            { name: 'limit', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
            {
              name: 'format',
              description: 'csv streams every row (or send Accept: text/csv)',
              schema: { type: 'string', enum: ['json', 'csv'] },
            },
          ].map((parameter) => ({ in: 'query', required: false, ...parameter })),
          responses: {
            200: {
              description: 'a page of rows or every group; or text/csv with a header row',
              content: {
                ...json(
                  z.object({
                    grouped: z.boolean(),
                    timeZone: z.string(),
                    source: statsSource,
                    rows: z.array(z.union([statsRow, statsGroup])),
                    nextCursor: z.string().nullable(),
                  }),
                ),
                'text/csv': { schema: { type: 'string' } },
              },
            },
            ...errors(400, 401, 403),
          },
        },
      },
      '/api/health': {
        get: {
          summary: 'Liveness, with the version and git commit this API runs',
          responses: { 200: { description: '{ ok, version, commit }' } },
        },
      },
      '/api/health/live': {
        get: { summary: 'Liveness: the process serves HTTP', responses: { 200: { description: 'ok' } } },
      },
      '/api/health/ready': {
        get: {
          summary: 'Readiness: PostgreSQL and Temporal answer within a second each',
          responses: { 200: { description: 'ready' }, ...errors(503) },
        },
      },
    }),
    ...inferenceProtocolPaths,
  },
};
