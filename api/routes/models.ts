import Router from '@koa/router';
import type { DatabasePool } from 'slonik';
import { listModels } from '../../db/models';
import { publicModelSpec, publicModelView } from '../../domain/model-catalog';
import { json } from '../http/openapi-parts';
import { z } from 'zod';

export function modelRoutes({ db }: { db: DatabasePool }) {
  const router = new Router();
  router.get('/api/models', async (ctx) => {
    ctx.body = { models: (await listModels(db)).map(publicModelView) };
  });
  return router;
}

/** This module's operations in the OpenAPI document (api/openapi.ts merges them). */
export const modelPaths = {
  '/api/models': {
    get: {
      summary: 'The model catalog',
      responses: { 200: { description: 'models', content: json(z.object({ models: z.array(publicModelSpec) })) } },
    },
  },
};
