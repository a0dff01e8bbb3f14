// The durable-record floor: the least any durable request service must do, on the same
// PostgreSQL and Temporal as Podium. A Koa POST inserts a row and eagerly starts a workflow
// inside that transaction; the workflow's one local activity calls the model over HTTP and
// stores the answer and status with one UPDATE; a GET ?wait long-polls the workflow and reads
// the row back. API, worker and clients share this process, as in Podium's benches. Podium's
// cost above it is the price of its guarantees (lease, FIFO, stats, events, metrics).
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import Koa from 'koa';
import { sql } from 'slonik';
import { z } from 'zod';
import { createDatabasePool } from '../../db/connection-pool';
import { echoInput } from '../support/test-stack';
import { measureLoad, type LoadFigures } from './load-shape';
import type { DurableRecordActivities } from './durable-record-floor.workflows';

/** Measures the floor in a schema of its own, dropped afterwards. */
export async function measureDurableRecordFloor(options: {
  address: string;
  databaseUrl: string;
  endpoint: string;
  runs?: number;
  clients?: number;
  seconds?: number;
}): Promise<LoadFigures> {
  const { address, databaseUrl, endpoint } = options;
  const schema = `durable_floor_${randomUUID().slice(0, 8)}`;
  // The same pool sizes as Podium's test stack: five connections for the API, five for the worker.
  const apiDb = await createDatabasePool({ databaseUrl, schema, maximumPoolSize: 5 });
  const workerDb = await createDatabasePool({ databaseUrl, schema, maximumPoolSize: 5 });
  await apiDb.query(sql.unsafe`CREATE SCHEMA ${sql.identifier([schema])}`);
  await apiDb.query(sql.unsafe`
    CREATE TABLE ${sql.identifier([schema, 'records'])} (
      id uuid PRIMARY KEY, input jsonb NOT NULL, status text NOT NULL, result jsonb,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(), finished_at timestamptz)`);

  const connection = await NativeConnection.connect({ address });
  const taskQueue = `durable-floor-${randomUUID()}`;
  const activities: DurableRecordActivities = {
    async inferAndStore(id, input, target) {
      const response = await fetch(`${target}/v2/models/echo/infer`, { method: 'POST', body: JSON.stringify(input) });
      const result: unknown = await response.json();
      const stored = await workerDb.query(sql.unsafe`
        UPDATE records SET status = 'COMPLETE', result = ${sql.jsonb(result as never)}, finished_at = clock_timestamp()
         WHERE id = ${id} AND status = 'REQUESTED'`);
      // Eager start can run this before the API's commit: the retry comes 10 ms later.
      if (stored.rowCount === 0) throw new Error(`record ${id} is not visible yet`);
    },
  };
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('./durable-record-floor.workflows'),
    activities,
  });
  const temporal = new Client({ connection }); // eager start needs the worker's connection

  const router = new Router();
  router.post('/records', async (ctx) => {
    const id = randomUUID();
    const input = (ctx.request.body as { input: unknown }).input;
    await apiDb.transaction(async (t) => {
      await t.query(
        sql.unsafe`INSERT INTO records (id, input, status) VALUES (${id}, ${sql.jsonb(input as never)}, 'REQUESTED')`,
      );
      await temporal.workflow.start('durableRecord', {
        taskQueue,
        workflowId: `record-${id}`,
        args: [id, input, endpoint],
        requestEagerStart: true,
      });
    });
    ctx.status = 202;
    ctx.body = { id, status: 'REQUESTED' };
  });
  router.get('/records/:id', async (ctx) => {
    const wait = Number(ctx.query.wait ?? 0);
    if (wait > 0) {
      const handle = temporal.workflow.getHandle(`record-${ctx.params.id}`);
      await temporal.withAbortSignal(AbortSignal.timeout(wait * 1000), () => handle.result()).catch(() => undefined);
    }
    ctx.body = await apiDb.one(sql.type(z.object({ id: z.string(), status: z.string(), result: z.unknown() }))`
      SELECT id, status, result FROM records WHERE id = ${ctx.params.id!}`);
  });
  const app = new Koa().use(bodyParser()).use(router.routes());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const once = async () => {
    const submitted = await fetch(`${base}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: echoInput }),
    });
    if (submitted.status !== 202) throw new Error(`durable-record floor: POST answered ${submitted.status}`);
    const { id } = (await submitted.json()) as { id: string };
    const read = await fetch(`${base}/records/${id}?wait=30`);
    const record = (await read.json()) as { status: string };
    if (record.status !== 'COMPLETE') throw new Error(`durable-record floor: record ${id} is ${record.status}`);
  };
  try {
    return await worker.runUntil(() => measureLoad(once, options));
  } finally {
    server.close();
    await connection.close();
    await apiDb.query(sql.unsafe`DROP SCHEMA ${sql.identifier([schema])} CASCADE`);
    await Promise.all([apiDb.end(), workerDb.end()]);
  }
}
