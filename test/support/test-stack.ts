import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pino from 'pino';
import type { DatabasePool } from 'slonik';
import { LocalProcessRuntime } from '../../activities/runtime/local-runtime';
import { createApp } from '../../api/app';
import { migrate } from '../../db/migrate';
import { createDatabasePool } from '../../db/pool';
import { isFinal } from '../../domain/request-status';
import type { WorkRequestView } from '../../domain/work-request';
import { startPodiumWorker } from '../../infra/worker';
import type { RunServices } from './run-services';
import { readTestEnv } from './services';

export type TestStack = Awaited<ReturnType<typeof startTestStack>>;

/**
 * The whole of Podium for one test file, on the services of the run: its own schema, its own
 * task queue and worker, and the API on a free port. `api` speaks HTTP to it like a user.
 */
export async function startTestStack(options: { schema?: string; bodyLimit?: string; services?: RunServices } = {}) {
  // Each test file has its own module registry, so its own Temporal Runtime: quiet it.
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const schema = options.schema ?? `test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const services = options.services ?? {
    databaseUrl: readTestEnv('databaseUrl'),
    temporalAddress: readTestEnv('temporalAddress'),
    workflowBundle: readTestEnv('workflowBundle'),
  };
  const { databaseUrl, temporalAddress: address } = services;
  await migrate(databaseUrl, schema);
  const pool: DatabasePool = await createDatabasePool({ databaseUrl, schema, maximumPoolSize: 5 });
  const taskQueue = `test-${randomUUID()}`;
  const runtime = new LocalProcessRuntime();
  const worker = await startPodiumWorker({
    address,
    namespace: 'default',
    taskQueue,
    pool,
    runtime,
    workflowBundle: { codePath: services.workflowBundle },
  });
  const connection = await Connection.connect({ address });
  const temporal = new Client({ connection, namespace: 'default' });
  const app = createApp({
    config: { TEMPORAL_TASK_QUEUE: taskQueue, REQUEST_BODY_LIMIT: options.bodyLimit ?? '64kb', ANONYMOUS_SESSION_TTL_HOURS: 1 },
    pool,
    temporal,
    logger: pino({ level: 'silent' }),
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const api = {
    async call(method: string, path: string, init: { token?: string; json?: unknown; body?: string; headers?: Record<string, string> } = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.token) headers.authorization = `Bearer ${init.token}`;
      if (init.json !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
      });
      const text = await response.text();
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body };
    },
    async anonymousToken(): Promise<string> {
      const response = await api.call('POST', '/api/sessions/anonymous');
      if (response.status !== 201) throw new Error(`no session: ${JSON.stringify(response.body)}`);
      return response.body.token;
    },
    async submit(token: string, json: unknown) {
      return api.call('POST', '/api/requests', { token, json });
    },
    /** Polls the request until it is final; returns every status seen on the way. */
    async waitUntilFinal(token: string, id: string, timeoutMs = 30_000) {
      const seen: string[] = [];
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const { status, body } = await api.call('GET', `/api/requests/${id}`, { token });
        if (status !== 200) throw new Error(`GET request ${id}: ${status} ${JSON.stringify(body)}`);
        const request = body as WorkRequestView;
        if (seen.at(-1) !== request.status) seen.push(request.status);
        if (isFinal(request.status)) return { request, seen };
        await sleep(20);
      }
      throw new Error(`request ${id} not final after ${timeoutMs} ms; statuses seen: ${seen.join(' → ')}`);
    },
  };

  return {
    schema,
    pool,
    temporal,
    taskQueue,
    baseUrl,
    api,
    async stop() {
      await new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      });
      await worker.stop();
      await connection.close();
      await pool.end();
    },
  };
}

export const echoInput = {
  inputs: [{ name: 'numbers', shape: [2, 2], datatype: 'FP32', data: [[1, 2], [3, 4.5]] }],
};
