import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { findModel, listModels } from '../../db/models';
import { imageProblems, imageRefusal, type ImagePolicy } from '../../domain/image-policy';
import { launchRefusal, localLaunchProblems, type LocalCommandPolicy } from '../../domain/local-command-policy';
import {
  modelId,
  modelSettings,
  modelSpec,
  modelSpecFrom,
  redactedModel,
  settingsOf,
  type ModelSettings,
} from '../../domain/model-catalog';
import { requirePermission, requireSession, signedInUser, type AuthState } from '../auth/session-auth';
import type { Authenticate } from '../auth/authenticator';
import { ApiError } from '../http/errors';
import { modelIdParam } from '../http/params';
import { registerModel, removeModel } from '../use-cases/admin-models';
import { requireJsonBody } from './json-body';
import { json, errors, bearer, modelIdParameter } from '../http/openapi-parts';
import { z } from 'zod';

/** A sentence as an API message starts it. */
const capitalised = (sentence: string) => sentence[0]!.toUpperCase() + sentence.slice(1);

type AdminModelRouteDeps = {
  db: DatabasePool;
  temporal: Client;
  taskQueue: string;
  authenticate: Authenticate;
  localCommands: LocalCommandPolicy | null;
  imagePolicy: ImagePolicy;
};

/**
 * Settings from a body, refused (400) when their image may not run on Kubernetes, or when this
 * process's local runtime would not run them.
 */
function settingsFrom(
  ctx: { request: { body?: unknown } },
  id: string,
  { localCommands, imagePolicy }: AdminModelRouteDeps,
): ModelSettings {
  const settings = modelSettings.parse(ctx.request.body);
  const image = imageProblems(settings.containerImage, imagePolicy);
  if (image.length > 0) {
    throw new ApiError(
      400,
      'MODEL_IMAGE_REFUSED',
      `${capitalised(imageRefusal(settings.containerImage, image))} (docs/security.md)`,
      {
        issues: image.map((message) => ({ path: ['containerImage'], message })),
      },
    );
  }
  const problems = localCommands ? localLaunchProblems(modelSpecFrom(id, settings), localCommands) : [];
  if (problems.length > 0) {
    throw new ApiError(400, 'LOCAL_COMMAND_REFUSED', `${capitalised(launchRefusal(problems))} (docs/security.md)`, {
      issues: problems.map(({ field, message }) => ({ path: [field], message })),
    });
  }
  return settings;
}

/** The model catalog for MODEL_ADMINs: every field (the local command too), and registering a model. */
export function adminModelRoutes(deps: AdminModelRouteDeps) {
  const { db } = deps;
  const router = new Router<AuthState>();
  router.use('/api/admin/models', requireSession(deps.authenticate), requirePermission('MODEL_ADMIN'));

  router.get('/api/admin/models', async (ctx) => {
    ctx.body = { models: (await listModels(db)).map(redactedModel) };
  });

  router.get('/api/admin/models/:id', async (ctx) => {
    const id = modelIdParam(ctx);
    const model = await findModel(db, id);
    if (!model) throw new ApiError(404, 'MODEL_NOT_FOUND', `No model ${id} in the catalog`);
    // `settings`: the same model as PUT takes it back, for editing (a `[redacted]` value is kept as stored).
    const shown = redactedModel(model);
    ctx.body = { model: shown, settings: settingsOf(shown) };
  });

  /** Registers a new model (201); 409 MODEL_EXISTS when the id is taken. */
  router.post('/api/admin/models/:id', async (ctx) => {
    const id = modelIdParam(ctx);
    requireJsonBody(ctx);
    const { model } = await registerModel(deps, signedInUser(ctx), id, settingsFrom(ctx, id, deps), { replace: false });
    ctx.status = 201;
    ctx.body = { model: redactedModel(model) };
  });

  /** Creates the model (201) or replaces its settings (200); its pool takes them at once. */
  router.put('/api/admin/models/:id', async (ctx) => {
    const id = modelIdParam(ctx);
    requireJsonBody(ctx);
    const { model, created } = await registerModel(deps, signedInUser(ctx), id, settingsFrom(ctx, id, deps), {
      replace: true,
    });
    ctx.status = created ? 201 : 200;
    ctx.body = { model: redactedModel(model) };
  });

  /** Deletes the model: new requests get UNKNOWN_MODEL; those it has finish (`draining` counts them). */
  router.delete('/api/admin/models/:id', async (ctx) => {
    const id = modelIdParam(ctx);
    ctx.body = { deleted: id, draining: await removeModel(deps, signedInUser(ctx), id) };
  });
  return router;
}

/** This module's operations in the OpenAPI document (api/openapi.ts merges them). */
export const adminModelPaths = {
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
};
