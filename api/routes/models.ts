import Router from '@koa/router';
import type { DatabasePool } from 'slonik';
import { listModels } from '../../db/models';
import { publicModelView } from '../../domain/model-catalog';

export function modelRoutes({ db }: { db: DatabasePool }) {
  const router = new Router();
  router.get('/api/models', async (ctx) => {
    ctx.body = { models: (await listModels(db)).map(publicModelView) };
  });
  return router;
}
