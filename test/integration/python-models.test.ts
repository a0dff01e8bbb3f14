import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'slonik';
import { z } from 'zod';
import { ensurePythonTool, mlserver } from '../../infra/python-tools';
import { eventually } from '../support/eventually';
import { readEventStream } from '../support/event-stream';
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

  it("streams from an MLModel's predict_stream, unchanged, through OIP's generate_stream and the request's events", async () => {
    expect(await podium('models', 'apply', '-f', 'models/python-stream/model.yaml')).toEqual({
      code: 0,
      output: 'created model words\n',
    });
    const token = await stack.api.anonymousToken();
    const sentence = 'a stream on a durable request';
    const body = {
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [sentence] }],
      parameters: { delay_ms: 20 },
    };
    const read = await readEventStream(`${stack.api.baseUrl}/v2/models/words/generate_stream`, {
      token,
      method: 'POST',
      json: body,
      timeoutMs: 90_000,
    });
    expect(read.status).toBe(200);
    expect(read.events.filter((event) => 'error' in (event.data as object))).toEqual([]);
    const pieces = read.events.map(
      (event) => event.data as { model_name: string; outputs: { name: string; data: string[] }[] },
    );
    expect(pieces.map((piece) => piece.outputs[0]!.data[0]).join('')).toBe(sentence);
    expect(pieces[0]).toMatchObject({
      model_name: 'words',
      outputs: [{ name: 'text', datatype: 'BYTES', shape: [1] }],
    });

    // The same through POST /api/requests and the request's events.
    const { body: submitted } = await stack.api.submit(token, {
      model: 'words',
      input: { url: '/v2/models/{name}/generate_stream', body },
    });
    const events = await readEventStream(`${stack.api.baseUrl}/api/requests/${submitted.id}/events`, { token });
    const chunks = events.events.filter((event) => event.event === 'chunk');
    expect(chunks.map((event) => event.data.text).join('')).toBe(sentence);
    expect(chunks).toHaveLength(sentence.split(' ').length);
    const { request } = await stack.api.waitUntilFinal(token, submitted.id);
    expect(request.result).toEqual({
      model_name: 'words',
      outputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [sentence] }],
    });

    // The shout model does not stream: asking it to is refused at once.
    await podium('models', 'apply', '-f', 'models/python-example/model.yaml');
    const refused = await stack.api.call('POST', '/v2/models/shout/generate_stream', { token, json: body });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'MODEL_CANNOT_STREAM' });
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
