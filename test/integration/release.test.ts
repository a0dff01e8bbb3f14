import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { buildDist, distDir } from '../../infra/build';
import { buildInfo } from '../../lib/build-info';
import { stopChild, untilReadyLine } from '../../infra/child-process';
import { findFreePorts } from '../../lib/ports';
import { echoInput, startTestStack, type TestStack } from '../support/test-stack';
import { startWorkerProcess, workerTargetOf } from '../support/worker-process';

// `npm run build`, then the API and a worker from dist/ with plain node (no tsx, no webpack, no
// web build at start-up), on the test's PostgreSQL and Temporal. The image built from it is
// checked by `npm run release` (infra/release/release.ts), which .ci/run runs after the tests:
// building it twice takes both cores for a minute, which other tests' timings should not share.
let stack: TestStack;
let api: ChildProcess | undefined;
let worker: ChildProcess | undefined;
let baseUrl: string;

/** The API's settings on the stack's services, without a worker, on a free port (`baseUrl`). */
async function apiEnv(): Promise<Record<string, string>> {
  const [port, metricsPort] = await findFreePorts(2);
  baseUrl = `http://127.0.0.1:${port}`;
  return {
    DATABASE_URL: stack.services.databaseUrl,
    DATABASE_SCHEMA: stack.schema,
    TEMPORAL_ADDRESS: stack.services.temporalAddress,
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    START_WORKER: 'false',
    HOST: '127.0.0.1',
    PORT: String(port),
    TEMPORAL_METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'error',
  };
}

/** `node dist/infra/start.js`; resolves once it serves. */
async function startBuiltApi(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(distDir, 'infra/start.js')], {
    cwd: path.resolve(__dirname, '../..'),
    env: { ...process.env, ...(await apiEnv()) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await untilReadyLine(child, (line) => line.includes('[podium] ready'), 'the built API');
  return child;
}

async function call(method: string, route: string, token?: string, json?: unknown) {
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(json ? { 'content-type': 'application/json' } : {}),
    },
    body: json ? JSON.stringify(json) : undefined,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  await buildDist(() => undefined);
  stack = await startTestStack({ worker: false });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

/** A served echo request, end to end, and the API's version: what each way of running must do. */
async function servesARequest() {
  expect((await call('GET', '/api/health')).body).toEqual({ ok: true, ...buildInfo() });
  const { token } = (await call('POST', '/api/sessions/anonymous')).body as { token: string };
  const submitted = await call('POST', '/api/requests', token, { model: 'echo', input: echoInput });
  expect(submitted.status).toBe(202);
  const done = await call('GET', `/api/requests/${submitted.body.id}?wait=30`, token);
  expect(done.body).toMatchObject({ status: 'COMPLETE', result: { outputs: echoInput.inputs } });
  const page = await fetch(`${baseUrl}/`);
  expect(await page.text()).toContain('<script type="module" src="/app.js"');
}

describe('the build', () => {
  beforeAll(async () => {
    api = await startBuiltApi();
    worker = await startWorkerProcess(workerTargetOf(stack), {}, { fromBuild: true });
  }, 60_000);
  afterAll(async () => {
    if (worker) await stopChild(worker);
    if (api) await stopChild(api);
  });

  it('holds what production runs: the compiled entry points, the workflow bundles, the web UI and its version', () => {
    for (const file of [
      'infra/start.js',
      'infra/worker-main.js',
      'infra/cli.js',
      'workflow-bundle.js',
      'workflow-bundle-traced.js',
      'web/dist/index.html',
      'web/dist/app.js',
      'db/migrations',
    ]) {
      expect(existsSync(path.join(distDir, file))).toBe(true);
    }
  });

  it('serves a request end to end from dist/ with plain node: the API, a worker and the web UI', servesARequest);
});
