import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import pino from 'pino';
import { errorMiddleware } from '../../api/http/errors';
import { QueryDeadlineError } from '../../db/query-deadline';

/** What a caller gets when a route throws `error`. */
async function answerTo(error: unknown) {
  const app = new Koa();
  app.use(errorMiddleware(pino({ level: 'silent' })));
  app.use(() => {
    throw error;
  });
  const server = app.listen(0);
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/anything`);
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: (await response.json()) as { error: { code: string } },
    };
  } finally {
    server.close();
  }
}

describe('a database deadline missed, as the caller hears it', () => {
  it('while PostgreSQL answered others: 503 SERVICE_OVERLOADED with Retry-After (load, not an outage)', async () => {
    const answer = await answerTo(new QueryDeadlineError(1_500, 'query', true));
    expect(answer).toMatchObject({ status: 503, retryAfter: '1', body: { error: { code: 'SERVICE_OVERLOADED' } } });
  });

  it('while PostgreSQL answered nobody: 503 DATABASE_UNAVAILABLE', async () => {
    const answer = await answerTo(new QueryDeadlineError(1_500, 'query', false));
    expect(answer).toMatchObject({ status: 503, retryAfter: null, body: { error: { code: 'DATABASE_UNAVAILABLE' } } });
  });

  it('at the commit: DATABASE_UNAVAILABLE with an unknown outcome, whoever else was answered', async () => {
    const answer = await answerTo(new QueryDeadlineError(1_500, 'commit'));
    expect(answer).toMatchObject({
      status: 503,
      body: { error: { code: 'DATABASE_UNAVAILABLE', details: { outcome: 'unknown' } } },
    });
  });
});
