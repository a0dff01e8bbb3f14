import { buildInfo } from '../lib/build-info';
import { errors } from './http/openapi-parts';
import { adminInstancePaths } from './routes/admin-instances';
import { adminModelPaths } from './routes/admin-models';
import { adminRequestPaths } from './routes/admin-requests';
import { adminStatsPaths } from './routes/admin-stats';
import { adminUserPaths } from './routes/admin-users';
import { authPaths } from './routes/auth';
import { healthPaths } from './routes/health';
import { inferenceProtocolPaths } from './routes/inference-protocol';
import { modelPaths } from './routes/models';
import { payloadPaths } from './routes/payloads';
import { requestPaths } from './routes/requests';
import { requestEventPaths } from './routes/request-events';
import { openAiPaths } from './routes/openai';
import { sessionPaths } from './routes/sessions';
import { webhookSecretPaths } from './routes/webhook-secrets';

// Each route module writes the OpenAPI paths of its own operations next to their handlers; this
// merges them into the document, and adds what every operation can answer.

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
      ...sessionPaths,
      ...modelPaths,
      ...requestPaths,
      ...requestEventPaths,
      ...payloadPaths,
      ...openAiPaths,
      ...webhookSecretPaths,
      ...authPaths,
      ...adminUserPaths,
      ...adminRequestPaths,
      ...adminInstancePaths,
      ...adminModelPaths,
      ...adminStatsPaths,
      ...healthPaths,
    }),
    ...inferenceProtocolPaths,
  },
};
