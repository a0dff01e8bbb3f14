import { performance } from 'node:perf_hooks';
import { sql } from 'slonik';
import { z } from 'zod';
import { createDatabasePool } from '../../db/connection-pool';
import { QueryDeadlineError, withQueryDeadline } from '../../db/query-deadline';
import { eventually } from '../support/eventually';
import { proxiedPool, startTestStack, type TestStack } from '../support/test-stack';

let stack: TestStack;
let behindProxy: Awaited<ReturnType<typeof proxiedPool>>;
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  behindProxy = await proxiedPool(stack.services.databaseUrl, stack.schema, 2);
  await stack.db.query(sql.unsafe`CREATE TABLE deadline_marks (mark text PRIMARY KEY)`);
});
afterAll(async () => {
  behindProxy?.proxy.thaw();
  await behindProxy?.db.end();
  await behindProxy?.proxy.close();
  await stack?.stop();
});

const marks = () =>
  stack.db.anyFirst(sql.type(z.object({ mark: z.string() }))`SELECT mark FROM deadline_marks ORDER BY mark`);

describe('withQueryDeadline: a PostgreSQL that hangs costs the deadline', () => {
  it('a query fails with QueryDeadlineError once the deadline passes', async () => {
    const db = withQueryDeadline(behindProxy.db, 300);
    await db.query(sql.unsafe`SELECT 1`); // a pooled connection
    behindProxy.proxy.freeze();
    const t0 = performance.now();
    await expect(db.query(sql.unsafe`SELECT 1`)).rejects.toMatchObject({
      name: 'QueryDeadlineError',
      at: 'query',
      databaseAnswering: false,
    });
    expect(performance.now() - t0).toBeLessThan(1_000);
    behindProxy.proxy.thaw();
  });

  it('a query whose turn for a connection does not come while PostgreSQL answers others is told apart: the pool is busy, not the database down', async () => {
    const onePool = await createDatabasePool({
      databaseUrl: stack.services.databaseUrl,
      schema: stack.schema,
      maximumPoolSize: 1,
    });
    try {
      // The connection is made first: on a loaded machine its making alone may take the deadline.
      await onePool.query(sql.unsafe`SELECT 1`);
      const db = withQueryDeadline(onePool, 1000);
      // Three callers ahead in line, each holding the one connection for 450 ms: the fourth waits
      // 1350 ms, past the deadline, and PostgreSQL answered the first of them well within it.
      const ahead = Array.from({ length: 3 }, () =>
        db.query(sql.unsafe`SELECT pg_sleep(0.45)`).catch((error: unknown) => error),
      );
      const error = await db.query(sql.unsafe`SELECT 1`).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: 'QueryDeadlineError', at: 'query', databaseAnswering: true });
      await Promise.all(ahead);
    } finally {
      await onePool.end();
    }
  });

  it('a transaction whose COMMIT hangs fails as `at: commit`: its outcome is unknown, and here it commits once PostgreSQL answers', async () => {
    const db = withQueryDeadline(behindProxy.db, 300);
    const t0 = performance.now();
    const outcome = db.transaction(async (t) => {
      await t.query(sql.unsafe`INSERT INTO deadline_marks (mark) VALUES ('committed late')`);
      behindProxy.proxy.freeze(); // the COMMIT slonik sends next hangs
    });
    const error = await outcome.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueryDeadlineError);
    expect(error).toMatchObject({ at: 'commit' });
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(await marks()).not.toContain('committed late');
    behindProxy.proxy.thaw();
    expect(await eventually(marks, (rows) => rows.includes('committed late'), 5_000)).toContain('committed late');
  });

  it('a transaction whose query hangs rolls back, even once PostgreSQL answers', async () => {
    const db = withQueryDeadline(behindProxy.db, 300);
    await db.query(sql.unsafe`SELECT 1`);
    const outcome = db.transaction(async (t) => {
      await t.query(sql.unsafe`SELECT 1`);
      behindProxy.proxy.freeze();
      await t.query(sql.unsafe`INSERT INTO deadline_marks (mark) VALUES ('never')`);
    });
    await expect(outcome).rejects.toMatchObject({ name: 'QueryDeadlineError', at: 'query' });
    behindProxy.proxy.thaw();
    await eventually(
      async () => behindProxy.db.state(),
      (state) => state.acquiredConnections === 0 && state.pendingReleaseConnections === 0,
      5_000,
    );
    expect(await marks()).not.toContain('never');
  });
});
