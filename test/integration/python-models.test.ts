import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'slonik';
import { z } from 'zod';
import { ensurePythonTool, mlserver } from '../../infra/python-tools';
import { eventually } from '../support/eventually';
import { runPodiumCli } from '../support/podium-cli';
import { readTestEnv } from '../support/services';
import { startTestStack, type TestStack } from '../support/test-stack';

let stack: TestStack;
let podium: (...args: string[]) => ReturnType<typeof runPodiumCli>;
beforeAll(async () => {
  ensurePythonTool(mlserver, () => undefined); // once per machine: PyPI, pinned, into .tools/
  stack = await startTestStack();
  const env = {
    DATABASE_URL: readTestEnv('databaseUrl'),
    DATABASE_SCHEMA: stack.schema,
    TEMPORAL_ADDRESS: readTestEnv('temporalAddress'),
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
  };
  podium = (...args) => runPodiumCli(env, ...args);
}, 300_000);
afterAll(async () => {
  await stack?.stop();
});

const instanceOf = (model: string) =>
  stack.db.one(sql.type(z.object({ status: z.string(), endpoint: z.string().nullable() }))`
    SELECT status, endpoint FROM model_instances WHERE model_id = ${model} ORDER BY created_at DESC LIMIT 1`);

describe('a Python model server, unchanged', () => {
  it('an MLServer MLModel registered with the CLI serves its first request, and goes when deleted', async () => {
    expect(await podium('models', 'apply', '-f', 'models/python-example/model.yaml')).toEqual({
      code: 0,
      output: 'created model shout\n',
    });
    expect((await podium('models', 'list')).output).toMatch(/^shout\tmlserver\tshout\t0-1\t300s\t1$/m);

    const token = await stack.api.anonymousToken();
    const input = { inputs: [{ name: 'text', datatype: 'BYTES', shape: [2], data: ['hello', 'podium'] }] };
    const { body } = await stack.api.submit(token, { model: 'shout', input });
    const { request } = await stack.api.waitUntilFinal(token, body.id, 60_000);
    expect(request).toMatchObject({
      status: 'COMPLETE',
      result: { model_name: 'shout', outputs: [{ name: 'shouted', data: ['HELLO', 'PODIUM'] }] },
    });

    const { endpoint } = await instanceOf('shout');
    expect((await fetch(`${endpoint}/v2/models/shout/ready`)).status).toBe(200);
    expect(await podium('models', 'delete', 'shout')).toEqual({
      code: 0,
      output: 'deleted model shout; 0 waiting and 0 running requests will finish\n',
    });
    await eventually(
      () => instanceOf('shout'),
      (instance) => instance.status === 'TERMINATED',
      15_000,
    );
    await expect(fetch(`${endpoint}/v2/health/live`)).rejects.toThrow(); // MLServer itself is gone, not only its watcher
  }, 120_000);

  it('refuses a model file it cannot run, naming each field, and registers nothing', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'podium-model-')), 'bad.yaml');
    await writeFile(file, 'id: half-done\ndisplayName: Half\nruntime: mlserver\nportEnv: PORT\nkeepWarmSeconds: -1\n');
    const { code, output } = await podium('models', 'apply', '-f', file);
    expect(code).toBe(1);
    expect(output).toContain(`${file} is not a model Podium can run:`);
    expect(output).toMatch(/^ {2}localCommand: /m);
    expect(output).toMatch(/^ {2}keepWarmSeconds: /m);
    expect((await podium('models', 'list')).output).not.toContain('half-done');
  });
});
