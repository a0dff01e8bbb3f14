import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { InstanceLostError } from '../../activities/runtime/instance-runtime';
import { LocalCommandRefusedError, LocalProcessRuntime } from '../../activities/runtime/local-runtime';
import { defaultLocalCommands } from '../../infra/local-commands';
import { isProcessAlive, spawnModelServer, stopModelServer } from '../../activities/runtime/model-process';
import { findModel } from '../../db/models';
import { poolWorkflowId, requestWorkflowId } from '../../workflows/contracts';
import { eventually } from '../support/eventually';
import { firstInstanceFailure } from '../support/instance-log';
import { addTestModel } from '../support/models';
import { echoInput, useTestStack } from '../support/test-stack';

let token: string;
const stack = useTestStack();
beforeAll(async () => {
  token = await stack.api.anonymousToken();
});

describe('a start another worker waits for', () => {
  // Two runtimes stand for two workers on one machine: the pool's wait for readiness may run
  // on a worker other than the one that started the process.
  it('is waited for while its process lives, and is lost (not failed) once it is gone', async () => {
    const model = (await findModel(stack.db, 'echo'))!;
    const starter = new LocalProcessRuntime(defaultLocalCommands);
    const other = new LocalProcessRuntime(defaultLocalCommands);
    const placed = await starter.start({
      instanceId: 'started-elsewhere',
      model,
      annotations: {},
      startupTimeoutMs: 30_000,
    });
    try {
      const waiting = { timeoutMs: 30_000, signal: new AbortController().signal, onProgress: () => undefined };
      await expect(other.awaitReady(placed, waiting)).resolves.toEqual({ endpoint: placed.endpoint });
      const gone = { ...placed, runtimeRef: String(spawnSync('true').pid), endpoint: 'http://127.0.0.1:1' };
      await expect(other.awaitReady(gone, waiting)).rejects.toBeInstanceOf(InstanceLostError);
    } finally {
      await starter.stopAll();
    }
  });
});

describe('model servers as users bring them', () => {
  it('one that takes longer to listen than the start heartbeat timeout (10 s) still serves: only its startup timeout decides', async () => {
    await addTestModel(stack.db, {
      id: 'slow-start',
      localCommand: ['sh', '-c', 'sleep 11; exec node models/echo/server.ts'],
      startupTimeoutSeconds: 30,
    });
    const { body } = await stack.api.submit(token, { model: 'slow-start', input: echoInput });
    const { request } = await stack.api.waitUntilFinal(token, body.id, 40_000);
    expect(request).toMatchObject({ status: 'COMPLETE', error: null });
  }, 60_000);

  it('one registered with the name it serves the model under (servedModelName) is called by that name', async () => {
    await addTestModel(stack.db, { id: 'loud', servedModelName: 'shout' });
    const { body } = await stack.api.submit(token, { model: 'loud', input: echoInput });
    const { request } = await stack.api.waitUntilFinal(token, body.id);
    expect(request).toMatchObject({ status: 'COMPLETE', result: { model_name: 'shout' } });
    expect(
      (await stack.api.call('GET', '/api/models')).body.models.find((m: { id: string }) => m.id === 'loud'),
    ).toMatchObject({
      servedModelName: 'shout',
    });
  });

  it('one that serves the model under another name is never ready: readiness asks for the model, not the server', async () => {
    // The server takes its model name from PODIUM_MODEL_NAME: this one answers for "shout".
    await addTestModel(stack.db, {
      id: 'unloaded',
      localCommand: ['env', 'PODIUM_MODEL_NAME=shout', 'node', 'models/echo/server.ts'],
      startupTimeoutSeconds: 2,
    });
    const { body } = await stack.api.submit(token, { model: 'unloaded', input: echoInput });
    const { request } = await stack.api.waitUntilFinal(token, body.id);
    expect(request.status).toBe('FAILED');
    expect(request.error).toEqual({
      code: 'INSTANCE_STARTUP_TIMEOUT',
      message: expect.stringContaining('the instance of unloaded did not become ready within 2 s'),
    });
    expect(await eventually(() => firstInstanceFailure(stack.db, 'unloaded'), Boolean)).toContain(
      '/v2/models/unloaded/ready did not answer 200',
    );
  });

  it('one that prints a secret and exits: the requester gets a code and a fixed message, the secret stays in the instance log', async () => {
    const secret = 'password=hunter2-do-not-leak';
    await addTestModel(stack.db, {
      id: 'leaky',
      localCommand: ['sh', '-c', `echo "could not connect with ${secret}" >&2; exit 3`],
    });
    const { body } = await stack.api.submit(token, { model: 'leaky', input: echoInput });
    const { request } = await stack.api.waitUntilFinal(token, body.id);
    expect(request).toMatchObject({
      status: 'FAILED',
      error: {
        code: 'INSTANCE_START_FAILED',
        message: expect.stringMatching(/^the instance of leaky failed to start \(instance /),
      },
    });
    expect(JSON.stringify(request)).not.toContain('hunter2');
    for (const workflowId of [requestWorkflowId(body.id), poolWorkflowId(stack.taskQueue, 'leaky')]) {
      expect(JSON.stringify(await stack.temporal.workflow.getHandle(workflowId).fetchHistory())).not.toContain(
        'hunter2',
      );
    }
    expect(await eventually(() => firstInstanceFailure(stack.db, 'leaky'), Boolean)).toContain(secret);
  });
});

describe("a local model's secrets", () => {
  it("reach the process from the worker's own environment, never from the catalog; one the worker lacks fails the start", async () => {
    // The process starts only if it was given the secret's value.
    const needsSecret = ['sh', '-c', 'test "$GREETING" = "hello from the worker" && exec node models/echo/server.ts'];
    process.env.PODIUM_MODEL_SECRET_TEST_GREETING = 'hello from the worker';
    try {
      await addTestModel(stack.db, {
        id: 'with-secret',
        localCommand: needsSecret,
        env: { GREETING: { secret: 'test-greeting' } },
      });
      const served = (await stack.api.submit(token, { model: 'with-secret', input: echoInput })).body.id as string;
      expect((await stack.api.waitUntilFinal(token, served)).request.status).toBe('COMPLETE');
    } finally {
      delete process.env.PODIUM_MODEL_SECRET_TEST_GREETING;
    }
    await addTestModel(stack.db, {
      id: 'secret-missing',
      localCommand: needsSecret,
      env: { GREETING: { secret: 'not-held' } },
    });
    const failed = (await stack.api.submit(token, { model: 'secret-missing', input: echoInput })).body.id as string;
    expect((await stack.api.waitUntilFinal(token, failed)).request).toMatchObject({
      status: 'FAILED',
      error: { code: 'INSTANCE_START_FAILED' },
    });
    expect(await eventually(() => firstInstanceFailure(stack.db, 'secret-missing'), Boolean)).toContain(
      'GREETING names the secret not-held, which this worker does not hold (set PODIUM_MODEL_SECRET_NOT_HELD in its environment)',
    );
  });
});

describe('what the local runtime runs', () => {
  it('refuses a command the operator did not allow, and starts nothing', async () => {
    await addTestModel(stack.db, { id: 'shell-out', localCommand: ['python3', '-c', 'print(1)'] });
    const { body } = await stack.api.submit(token, { model: 'shell-out', input: echoInput });
    const { request } = await stack.api.waitUntilFinal(token, body.id);
    expect(request).toMatchObject({ status: 'FAILED', error: { code: 'INSTANCE_START_FAILED' } });
    expect(await eventually(() => firstInstanceFailure(stack.db, 'shell-out'), Boolean)).toContain(
      'the local runtime does not run this model: localCommand "python3" is neither node, a file inside the models root (models), nor a command the operator allows (LOCAL_MODEL_COMMANDS)',
    );
  });

  it('runs no shell by default: sh, node -e and a loader variable are refused before anything is spawned', async () => {
    const runtime = new LocalProcessRuntime(defaultLocalCommands);
    const echo = (await findModel(stack.db, 'echo'))!;
    const start = (model: typeof echo) =>
      runtime.start({ instanceId: 'refused', model, annotations: {}, startupTimeoutMs: 5_000 });
    await expect(start({ ...echo, localCommand: ['sh', '-c', 'true'] })).rejects.toBeInstanceOf(
      LocalCommandRefusedError,
    );
    await expect(start({ ...echo, localCommand: ['node', '-e', 'true'] })).rejects.toThrow(
      'node runs a script inside the models root',
    );
    await expect(start({ ...echo, env: { LD_PRELOAD: '/tmp/evil.so' } })).rejects.toThrow(
      'env sets what changes how programs load, which a model may not: LD_PRELOAD',
    );
    expect(await runtime.list({})).toEqual([]);
  });

  it('one that serves the model under another name, ready by its server alone, fails MODEL_NOT_SERVED, not blaming the input', async () => {
    await addTestModel(stack.db, {
      id: 'misnamed',
      localCommand: ['env', 'PODIUM_MODEL_NAME=shout', 'node', 'models/echo/server.ts'],
      readinessPath: '/v2/health/ready',
    });
    const { body } = await stack.api.submit(token, { model: 'misnamed', input: echoInput });
    const { request } = await stack.api.waitUntilFinal(token, body.id);
    expect(request.status).toBe('FAILED');
    expect(request.error).toEqual({
      code: 'MODEL_NOT_SERVED',
      message: expect.stringContaining('model misnamed is not served by its instance'),
    });
  });
});

describe('a model process whose start is given up on', () => {
  it('is stopped before the start fails, so no process outlives its instance', async () => {
    const pidFile = path.join(await mkdtemp(path.join(tmpdir(), 'podium-start-')), 'pid');
    const givenUp = new AbortController();
    const starting = spawnModelServer(['sh', '-c', `echo $$ > ${pidFile}; exec sleep 60`], {}, 30_000, givenUp.signal);
    const pid = Number(
      await eventually(
        () => readFile(pidFile, 'utf8').catch(() => ''),
        (text) => text.trim() !== '',
        5_000,
      ),
    );
    givenUp.abort();
    await expect(starting).rejects.toThrow('given up on');
    expect(isProcessAlive(pid)).toBe(false);
  });
});

describe("Podium's own model servers speak the Open Inference Protocol v2", () => {
  it('metadata lists inputs and outputs; a binary tensor request gets a 400 naming the extension', async () => {
    const { child, port } = await spawnModelServer(
      ['node', 'models/sentiment/server.ts'],
      { PODIUM_MODEL_NAME: 'sentiment' },
      10_000,
    );
    try {
      const base = `http://127.0.0.1:${port}/v2/models/sentiment`;
      const metadata = await (await fetch(base)).json();
      expect(metadata).toEqual({
        name: 'sentiment',
        versions: ['1'],
        platform: 'afinn-165',
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
        outputs: [
          { name: 'label', datatype: 'BYTES', shape: [-1] },
          { name: 'score', datatype: 'FP32', shape: [-1] },
        ],
      });
      // What tritonclient sends by default: a JSON header, then the raw tensor bytes.
      const header = JSON.stringify({
        inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 9 } }],
      });
      const binary = await fetch(`${base}/infer`, {
        method: 'POST',
        headers: {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(header.length),
        },
        body: Buffer.concat([Buffer.from(header), Buffer.from([5, 0, 0, 0]), Buffer.from('great')]),
      });
      expect(binary.status).toBe(400);
      expect((await binary.json()).error).toContain('binary tensor data extension is not supported');
    } finally {
      await stopModelServer(child);
    }
  });
});
