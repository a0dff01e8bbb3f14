import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { buildDist, distDir } from '../../infra/build';
import { buildInfo } from '../../infra/build-info';
import { findFreePorts } from '../../infra/ports';
import { buildAppImage, type BuiltImage } from '../../infra/release/images';
import { echoInput, startTestStack, testWebhookSecret, type TestStack } from '../support/test-stack';
import { unpackImage } from '../../infra/release/unpacked-image';
import { startWorkerProcess, stopWorkerProcess, workerTargetOf } from '../support/worker-process';

// The release, on the test's PostgreSQL and Temporal: `npm run build`, then the API and a worker
// from dist/ with plain node (no tsx, no webpack, no web build at start-up); then `npm run
// images`, twice, and the API and a worker run from the unpacked image as its user.
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
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the built API exited (${code}): ${output}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      if (line.includes('[podium] ready')) resolve();
    });
  });
  return child;
}

async function call(method: string, route: string, token?: string, json?: unknown) {
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(json ? { 'content-type': 'application/json' } : {}) },
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
    if (worker) await stopWorkerProcess(worker);
    if (api?.exitCode === null) {
      const exited = new Promise((resolve) => api!.once('exit', resolve));
      api.kill('SIGTERM');
      await exited;
    }
  });

  it('holds what production runs: the compiled entry points, the workflow bundles, the web UI and its version', () => {
    for (const file of ['infra/start.js', 'infra/worker-main.js', 'infra/cli.js', 'workflow-bundle.js', 'workflow-bundle-traced.js', 'web/dist/index.html', 'web/dist/app.js', 'db/migrations']) {
      expect(existsSync(path.join(distDir, file))).toBe(true);
    }
  });

  it('serves a request end to end from dist/ with plain node: the API, a worker and the web UI', servesARequest);
});

describe('the image', () => {
  let first: BuiltImage;
  let second: BuiltImage;
  let unpacked: Awaited<ReturnType<typeof unpackImage>>;
  beforeAll(async () => {
    first = await buildAppImage(() => undefined);
    const bytes = await readFile(first.archive);
    second = await buildAppImage(() => undefined);
    expect((await readFile(second.archive)).equals(bytes)).toBe(true); // the same bytes, not only the same digest
    unpacked = await unpackImage(first.archive, buildInfo().version);
    await unpacked.run('/app/dist/infra/start.js', await apiEnv(), '[podium] ready');
    const target = workerTargetOf(stack);
    await unpacked.run(
      '/app/dist/infra/worker-main.js',
      { DATABASE_URL: target.databaseUrl, DATABASE_SCHEMA: target.schema, TEMPORAL_ADDRESS: target.temporalAddress, TEMPORAL_TASK_QUEUE: target.taskQueue, WEBHOOK_SECRET: testWebhookSecret, LOG_LEVEL: 'error', WORKER_METRICS_PORT: '0', TEMPORAL_METRICS_PORT: '0' },
      'worker-ready',
    );
  }, 240_000);
  afterAll(async () => {
    await unpacked?.remove();
  });

  it('is the same image when built twice from one commit, and says which release and commit it is', async () => {
    expect(second.digest).toBe(first.digest);
    expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const config = JSON.parse(await readFile(path.join(unpacked.rootfs, '..', 'config.json'), 'utf8')) as { process: { user: { uid: number }; args: string[]; cwd: string } };
    expect(config.process).toMatchObject({ user: { uid: 10001 }, args: ['/usr/local/bin/node', 'dist/infra/start.js'], cwd: '/app' });
    const { version, commit } = buildInfo();
    const manifest = await readFile(first.archive);
    expect(manifest.includes(`"org.opencontainers.image.revision":"${commit}"`)).toBe(true);
    expect(manifest.includes(`"org.opencontainers.image.version":"${version}"`)).toBe(true);
  });

  it('has SBOMs: its npm packages and the Debian packages of its libraries', async () => {
    const npm = JSON.parse(await readFile(first.sboms[0]!, 'utf8')) as { bomFormat: string; components: { name: string }[] };
    expect(npm.bomFormat).toBe('CycloneDX');
    expect(npm.components.map((component) => component.name)).toEqual(expect.arrayContaining(['koa', '@temporalio/worker', 'slonik']));
    expect(await readFile(first.sboms[1]!, 'utf8')).toMatch(/^libc6 \S+ amd64$/m);
  });

  it('serves a request end to end from the unpacked image, as its non-root user: the API, a worker and the web UI', servesARequest);
});
