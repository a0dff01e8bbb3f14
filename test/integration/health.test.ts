import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { findFreePort } from '../../lib/ports';
import { eventually } from '../support/eventually';
import { runPodiumCli } from '../support/podium-cli';
import { startTcpProxy } from '../support/tcp-proxy';
import { echoInput, proxiedPool, useTestStack } from '../support/test-stack';

const stack = useTestStack({ worker: false });

type BehindProxy = Awaited<ReturnType<typeof proxiedPool>>;

/**
 * Runs `test` with a database pool that reaches the test PostgreSQL through a proxy it can
 * freeze, take down or close; whatever the test did, the proxy and pool are gone afterwards.
 */
async function behindProxy(test: (database: BehindProxy) => Promise<void>): Promise<void> {
  const database = await proxiedPool(stack.services.databaseUrl, stack.schema, 2);
  try {
    await test(database);
  } finally {
    database.proxy.thaw();
    database.proxy.bringUp();
    await database.db.end().catch(() => undefined);
    await database.proxy.close();
  }
}

describe('health probes', () => {
  it('live and ready answer 200 when PostgreSQL and Temporal do', async () => {
    expect((await stack.api.call('GET', '/api/health/live')).body).toEqual({ ok: true });
    const ready = await stack.api.call('GET', '/api/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ ok: true, checks: { database: 'up', temporal: 'up' } });
  });

  it('/api/health and `podium version` name the version and commit of the checkout', async () => {
    const { version } = JSON.parse(await readFile(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
      version: string;
    };
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    expect((await stack.api.call('GET', '/api/health')).body).toEqual({ ok: true, version, commit });
    expect(await runPodiumCli({}, 'version')).toEqual({ code: 0, output: `podium ${version} (commit ${commit})\n` });
  });

  it('ready is a coded 503 within 2 s when Temporal does not answer; live stays 200', async () => {
    const nowhere = `127.0.0.1:${await findFreePort()}`;
    const temporal = new Client({ connection: Connection.lazy({ address: nowhere, connectTimeout: 500 }) });
    const instance = await stack.startApiInstance({}, { temporal });
    const t0 = performance.now();
    const ready = await instance.api.call('GET', '/api/health/ready');
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(ready.status).toBe(503);
    expect(ready.body.error).toMatchObject({
      code: 'TEMPORAL_UNAVAILABLE',
      details: { checks: { database: 'up', temporal: 'down' } },
    });
    expect((await instance.api.call('GET', '/api/health/live')).status).toBe(200);
  });

  it('a submission is a coded 503 within 2 s when Temporal hangs, and nothing of it is written', async () => {
    const [host, port] = stack.services.temporalAddress.split(':');
    const proxy = await startTcpProxy({ host: host!, port: Number(port) });
    const temporal = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${proxy.port}` }) });
    try {
      const instance = await stack.startApiInstance({}, { temporal });
      const token = await stack.api.anonymousToken();
      proxy.freeze();
      const t0 = performance.now();
      const refused = await instance.api.submit(token, { model: 'echo', input: echoInput });
      expect(performance.now() - t0).toBeLessThan(2_000);
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('TEMPORAL_UNAVAILABLE');
      expect((await stack.api.call('GET', '/api/requests', { token })).body.requests).toEqual([]);
    } finally {
      proxy.thaw();
      await temporal.connection.close();
      await proxy.close();
    }
  });

  it('ready is a coded 503 within 2 s when PostgreSQL hangs, and 200 again once it answers', async () => {
    await behindProxy(async ({ proxy, db }) => {
      const instance = await stack.startApiInstance({}, { db });
      expect((await instance.api.call('GET', '/api/health/ready')).status).toBe(200);
      proxy.freeze();
      const t0 = performance.now();
      const ready = await instance.api.call('GET', '/api/health/ready');
      expect(performance.now() - t0).toBeLessThan(2_000);
      expect(ready.status).toBe(503);
      expect(ready.body.error).toMatchObject({
        code: 'DATABASE_UNAVAILABLE',
        details: { checks: { database: 'down', temporal: 'up' } },
      });
      proxy.thaw();
      await eventually(
        async () => (await instance.api.call('GET', '/api/health/ready')).status,
        (status) => status === 200,
        10_000,
      );
    });
  });

  it('a route answers a coded 503 within 2 s when PostgreSQL hangs, and a submission it refused is not written later', async () => {
    await behindProxy(async ({ proxy, db }) => {
      const instance = await stack.startApiInstance({ API_DEADLINE_MS: '1000' }, { db });
      const token = await stack.api.anonymousToken(); // sessions are checked on the instance's own pool
      expect((await instance.api.call('GET', '/api/models')).status).toBe(200);
      proxy.freeze();
      for (const call of [
        () => instance.api.call('GET', '/api/models'),
        () => instance.api.submit(token, { model: 'echo', input: echoInput }),
      ]) {
        const t0 = performance.now();
        const response = await call();
        expect(performance.now() - t0).toBeLessThan(2_000);
        expect(response.status).toBe(503);
        expect(response.body.error).toMatchObject({
          code: 'DATABASE_UNAVAILABLE',
          message: expect.stringContaining('did not answer in time'),
        });
      }
      proxy.thaw();
      await eventually(
        async () => (await instance.api.call('GET', '/api/models')).status,
        (status) => status === 200,
        10_000,
      );
      // The refused submission's transaction rolled back once PostgreSQL answered again.
      await eventually(
        async () => db.state(),
        (state) => state.acquiredConnections === 0 && state.pendingReleaseConnections === 0,
        10_000,
      );
      expect((await stack.api.call('GET', '/api/requests', { token })).body.requests).toEqual([]);
    });
  });

  it('survives PostgreSQL ending its connections (a restart): the next sign-in counter works', async () => {
    await behindProxy(async ({ proxy, db, databaseUrl }) => {
      const instance = await stack.startApiInstance({}, { db, databaseUrl });
      expect((await instance.api.call('POST', '/api/sessions/anonymous')).status).toBe(201); // counts on a pooled connection
      proxy.takeDown(); // the counters' idle connection ends, as PostgreSQL's restart would end it
      await sleep(200);
      proxy.bringUp();
      expect((await instance.api.call('POST', '/api/sessions/anonymous')).status).toBe(201);
    });
  });

  it('any route answers a coded 503 when PostgreSQL cannot be reached, not a 500', async () => {
    await behindProxy(async ({ proxy, db }) => {
      const instance = await stack.startApiInstance({}, { db });
      expect((await instance.api.call('GET', '/api/models')).status).toBe(200);
      await proxy.close(); // connections dropped, new ones refused
      // The first call finds its pooled connection dropped, the next one is refused a new one.
      for (let call = 0; call < 2; call++) {
        const response = await instance.api.call('GET', '/api/models');
        expect(response.status).toBe(503);
        expect(response.body.error.code).toBe('DATABASE_UNAVAILABLE');
      }
    });
  });
});
